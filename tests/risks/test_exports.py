"""The board pack: the register and a review's snapshot as CSV and XLSX."""

from __future__ import annotations

import csv
import datetime
import io
from http import HTTPStatus

import pandas as pd
import pytest
from django.utils.timezone import localdate
from openpyxl import load_workbook

from risks import columns
from risks.models import RatingBand
from risks.services import review_create, review_finalise, risk_assess
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db

SHEETS = ["Scale", "Current grid", "Target grid", "Risks"]
REGISTER_HEADER = columns.header(columns.HUMAN)
SNAPSHOT_HEADER = [column.header for column in columns.SNAPSHOT_COLUMNS]


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


def _board_csv(response) -> list[list[str]]:
    """The board's register CSV: a line naming the day and filters, then the table."""
    title, *rows = _csv(response)
    assert len(title) == 1 and title[0].startswith("the register ")
    return rows


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
    rows = _board_csv(board_client.get("/risks/export.csv"))

    assert rows[0] == REGISTER_HEADER
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert sorted(by_code) == ["R1", "R2", "R3", "R4", "R5"]
    r1 = by_code["R1"]
    assert (r1["Likelihood level"], r1["Likelihood"], r1["Score"], r1["Rating"]) == (
        "5",
        "High",
        "25",
        "Critical",
    )
    assert r1["Target impact"] == "Medium-High"
    assert r1["Status"] == "Open" and r1["Review overdue"] in ("Yes", "No")


def test_register_csv_honours_filters_and_neutralises_formulas(board_client):
    RiskFactory(code="T1", title="=HYPERLINK(evil)", category="security")
    RiskFactory(code="T2", category="financial")
    rows = _board_csv(board_client.get("/risks/export.csv?category=security"))
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
    assert risks[0][0] == "Filters: none (every risk on the register)"
    assert list(risks[1]) == REGISTER_HEADER and len(risks) == 7


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
    assert (row["Review"], row["Code"], row["Likelihood level"], row["Impact level"]) == (
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


HOSTILE = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1:A9)"]


def test_the_page_csv_and_the_api_csv_share_their_columns(board_client, auditor, client, seed):
    board = _board_csv(board_client.get("/risks/export.csv?ordering=code"))
    client.force_login(auditor)
    api = client.get("/api/v1/risks/?format=csv")
    machine = list(csv.reader(io.StringIO(b"".join(api.streaming_content).decode())))
    assert len(board[0]) == len(machine[0]) == len(columns.REGISTER_COLUMNS)
    assert board[0] == [c.header for c in columns.REGISTER_COLUMNS]
    assert machine[0] == [c.name for c in columns.REGISTER_COLUMNS]
    assert sorted(row[0] for row in board[1:]) == sorted(row[0] for row in machine[1:])


def test_an_empty_board_csv_reads_in_pandas_with_its_header(board_client):
    response = board_client.get("/risks/export.csv?category=security")
    frame = pd.read_csv(io.BytesIO(b"".join(response.streaming_content)), header=1)
    assert frame.empty and list(frame.columns) == REGISTER_HEADER


def test_board_files_neutralise_formulas(board_client):
    RiskFactory(code="H1", title=HOSTILE[0], owner=HOSTILE[1], statement=HOSTILE[2])
    RiskFactory(code="H2", title=HOSTILE[3], owner="\tTab", statement="\rCR")
    frame = pd.read_csv(
        io.BytesIO(b"".join(board_client.get("/risks/export.csv").streaming_content)),
        header=1,
        dtype=str,
        keep_default_na=False,
    )
    cells = [str(v) for v in frame.to_numpy().ravel()]
    assert [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))] == []
    assert "'" + HOSTILE[0] in cells and "'\tTab" in cells

    sheet = _xlsx(board_client.get("/risks/export.xlsx"))["Risks"]
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
    title = next(r[1] for r in sheet.iter_rows(min_row=3) if r[0].value == "H1")
    assert title.value == "'" + HOSTILE[0] and title.quotePrefix


def test_the_risks_sheet_is_a_usable_table(board_client, staff_member):
    risk = RiskFactory(code="T1", category="security")
    risk_assess(risk=risk, likelihood=4, impact=4, rationale="Worse.", user=staff_member)
    RiskFactory(code="T2", category="financial")
    response = board_client.get("/risks/export.xlsx?category=security&status=open")
    book = _xlsx(response)
    sheet = book["Risks"]

    assert sheet["A1"].value == "Filters: Category: Security; Status: Open"
    header = [c.value for c in sheet[2]]
    assert header == REGISTER_HEADER and all(c.font.b for c in sheet[2])
    assert sheet.freeze_panes == "C3"
    last = sheet.cell(row=2, column=len(header)).column_letter
    assert sheet.auto_filter.ref == f"A2:{last}3"
    row = dict(zip(header, sheet[3], strict=True))
    assert row["Code"].value == "T1" and row["Category"].value == "Security"
    assert row["Likelihood level"].value == 4 and row["Score"].value == 16
    assert isinstance(row["Last assessed (UTC)"].value, datetime.datetime)
    assert row["Last assessed (UTC)"].number_format == "yyyy-mm-dd hh:mm"
    assert isinstance(row["Next review due"].value, datetime.datetime)  # a date cell
    assert row["Next review due"].number_format == "yyyy-mm-dd"
    assert row["Review overdue"].value is False
    widths = {name: sheet.column_dimensions[c.column_letter].width for name, c in row.items()}
    assert widths["Title"] == 40 and widths["Risk statement"] == 60 and widths["Code"] < 12
    frame = pd.read_excel(io.BytesIO(response.content), sheet_name="Risks", header=1)
    assert list(frame.columns) == REGISTER_HEADER and list(frame["Code"]) == ["T1"]


def test_board_files_name_their_filters(board_client):
    RiskFactory(code="T1", category="security")
    response = board_client.get("/risks/export.csv?category=security&status=open&owner=")
    assert response["X-Filters"] == "Filters: Category: Security; Status: Open"
    disposition = response["Content-Disposition"]
    assert disposition.endswith('--category-security--status-open.csv"')
    rows = _csv(response)
    assert rows[0] == ["the register today; Filters: Category: Security; Status: Open"]
    assert rows[1] == REGISTER_HEADER  # the header comes right under the filters
    unfiltered = board_client.get("/risks/export.xlsx")
    assert unfiltered["X-Filters"] == "Filters: none (every risk on the register)"
    assert unfiltered["Content-Disposition"].endswith(f'risk-register-{localdate()}.xlsx"')


def test_snapshot_sheet_has_human_headers(board_client, final_review, seed):
    book = _xlsx(board_client.get("/reviews/2027-Q1/export.xlsx"))
    sheet = book["Risks"]
    assert [c.value for c in sheet[2]] == SNAPSHOT_HEADER
    assert sheet.freeze_panes == "C3" and sheet.auto_filter.ref.startswith("A2:")
