"""The board pack: the register and a review's snapshot as CSV and XLSX."""

from __future__ import annotations

import csv
import datetime
import io
from http import HTTPStatus

import pytest
from openpyxl import load_workbook

from risks.exports import REGISTER_HEADER, SNAPSHOT_HEADER
from risks.models import RatingBand
from risks.services import review_create, review_finalise, risk_assess
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db

SHEETS = ["Scale", "Current grid", "Target grid", "Risks"]


@pytest.fixture
def board_client(client, board_member):
    client.force_login(board_member)
    return client


@pytest.fixture
def final_review(board_member):
    review = review_create(
        user=board_member, quarter="2027-Q1", meeting_date=datetime.date(2027, 3, 1), attendees="A"
    )
    return review_finalise(review=review, user=board_member)


def _csv(response) -> list[list[str]]:
    assert response.status_code == HTTPStatus.OK
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx(response):
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


@pytest.mark.parametrize(
    "path",
    [
        "/risks/export.csv",
        "/risks/export.xlsx",
        "/reviews/2027-Q1/export.csv",
        "/reviews/2027-Q1/export.xlsx",
    ],
)
def test_exports_need_a_group(client, outsider, final_review, path):
    assert client.get(path)["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    assert client.get(path).status_code == HTTPStatus.FORBIDDEN


def test_register_csv_has_a_header_and_a_row_per_risk(board_client, seed):
    rows = _csv(board_client.get("/risks/export.csv"))

    assert rows[0] == REGISTER_HEADER
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert sorted(by_code) == ["R1", "R2", "R3", "R4", "R5"]
    r1 = by_code["R1"]
    assert (r1["likelihood"], r1["likelihood_label"], r1["score"], r1["rating"]) == (
        "5",
        "High",
        "25",
        "Critical",
    )
    assert r1["target_impact_label"] == "Medium-High"


def test_register_csv_honours_filters_and_neutralises_formulas(board_client):
    RiskFactory(code="T1", title="=HYPERLINK(evil)", category="security")
    RiskFactory(code="T2", category="financial")
    rows = _csv(board_client.get("/risks/export.csv?category=security"))
    assert [row[0] for row in rows[1:]] == ["T1"]
    assert rows[1][1] == "'=HYPERLINK(evil)"
    assert (
        board_client.get("/risks/export.csv?category=nonsense").status_code
        == HTTPStatus.BAD_REQUEST
    )


def test_register_xlsx_has_the_four_sheets(board_client, seed):
    book = _xlsx(board_client.get("/risks/export.xlsx"))

    assert book.sheetnames == SHEETS
    scale = [c for row in book["Scale"].iter_rows(values_only=True) for c in row if c]
    assert "Medium-High" in scale and "Critical" in scale and "Risk appetite" in scale
    grid = book["Current grid"]
    cells = [c for row in grid.iter_rows() for c in row if c.value and "R1" in str(c.value)]
    assert len(cells) == 1 and "Critical · 25" in cells[0].value
    critical = RatingBand.objects.get(name="Critical").colour.lstrip("#").upper()
    assert cells[0].fill.fill_type == "solid"
    assert cells[0].fill.fgColor.rgb.endswith(critical)
    target = [c.value for row in book["Target grid"].iter_rows() for c in row if c.value]
    assert any("R1" in str(v) and "High · 12" in str(v) for v in target)
    risks = list(book["Risks"].iter_rows(values_only=True))
    assert list(risks[0]) == REGISTER_HEADER and len(risks) == 6


def test_review_snapshot_csv_and_xlsx(board_client, board_member, staff_member):
    risk = RiskFactory(code="T1", likelihood=3, impact=3)
    review = review_create(
        user=board_member, quarter="2027-Q2", meeting_date=datetime.date(2027, 6, 1), attendees="A"
    )
    review_finalise(review=review, user=board_member)
    risk_assess(risk=risk, likelihood=5, impact=5, rationale="Worse.", user=staff_member)

    rows = _csv(board_client.get("/reviews/2027-Q2/export.csv"))
    assert rows[0] == SNAPSHOT_HEADER
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["review"], row["code"], row["likelihood"], row["impact"]) == (
        "2027-Q2",
        "T1",
        "3",
        "3",
    )

    book = _xlsx(board_client.get("/reviews/2027-Q2/export.xlsx"))
    assert book.sheetnames == SHEETS
    grid = [c.value for r in book["Current grid"].iter_rows() for c in r if c.value]
    assert any("Moderate · 9" in str(v) and "T1" in str(v) for v in grid)


def test_a_draft_has_no_snapshot_to_export(board_client, board_member):
    review_create(
        user=board_member, quarter="2027-Q3", meeting_date=datetime.date(2027, 9, 1), attendees="A"
    )
    assert board_client.get("/reviews/2027-Q3/export.csv").status_code == HTTPStatus.NOT_FOUND
