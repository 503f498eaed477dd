"""The register's API CSV reads its columns from risks/columns.py, and says what the JSON says."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
import time_machine
from django.test import RequestFactory
from openpyxl import load_workbook

from common.api import flatten
from risks import columns
from risks.api.serializers import RiskSerializer
from risks.api.views import RiskViewSet
from risks.selectors import rating_scale
from risks.services import contingency_invoke, risk_assess, risk_close, risk_update
from tests.factories import AgencyFactory, KeyActionFactory, PhaseFactory, RiskFactory

pytestmark = pytest.mark.django_db


def test_rows_equal_the_flattened_json(staff_member):
    phase = PhaseFactory(number=2)
    action = KeyActionFactory(phase=phase)
    risk = RiskFactory(code="X1", inherent_likelihood=5, inherent_impact=5, phases=[phase])
    risk.supporting_agencies.set([AgencyFactory(code="DEA"), AgencyFactory(code="USAID")])
    risk.key_actions.set([action])
    contingency_invoke(risk=risk, user=staff_member, reason="Triggered.")
    closed = RiskFactory(code="X2", inherent_likelihood=1, inherent_impact=2)
    risk_close(risk=closed, reason="Retired.", user=staff_member)
    request = RequestFactory().get("/api/v1/risks/")
    queryset = RiskViewSet.queryset.all()

    header = columns.header(columns.MACHINE)
    table = columns.register_table(
        queryset, style=columns.MACHINE, scale=rating_scale(), request=request
    )
    fast = [dict(zip(header, row, strict=True)) for row in table]
    context = {"request": request}
    slow = [flatten(RiskSerializer(r, context=context).data) for r in queryset]

    assert [row["code"] for row in fast] == ["X1", "X2"]
    for got, want in zip(fast, slow, strict=True):
        # Every JSON field is a column, in the JSON's order, with the same value.
        assert [name for name in got if name in want] == list(want)
        assert {k: v for k, v in want.items() if ("" if got[k] is None else got[k]) != v} == {}
    # The columns the JSON does not carry: the target's band, for the board's files.
    assert set(header) - set(slow[0]) == {"target_rating"}


def test_the_header_is_the_same_whatever_the_first_row(client, auditor):
    RiskFactory(code="X1")  # no inherent rating: its columns stay, empty
    RiskFactory(code="X2", inherent_likelihood=2, inherent_impact=2)
    client.force_login(auditor)
    response = client.get("/api/v1/risks/?format=csv&ordering=code")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["inherent_likelihood_level"] == ""
    assert rows[1]["inherent_likelihood_level"] == "2"
    assert rows[1]["inherent_likelihood_label"] == "Medium-Low"


def test_a_detail_csv_has_the_list_columns(client, auditor):
    RiskFactory(code="X1")
    client.force_login(auditor)
    detail = client.get("/api/v1/risks/X1/?format=csv")
    listed = client.get("/api/v1/risks/?format=csv")
    assert detail["Content-Disposition"] == 'attachment; filename="risks-X1.csv"'
    one = list(csv.reader(io.StringIO(b"".join(detail.streaming_content).decode())))
    many = list(csv.reader(io.StringIO(b"".join(listed.streaming_content).decode())))
    assert one == many


def test_as_of_rows_flow_through_the_columns(staff_member, client, auditor, board_member):
    """The register as of a past day, in all three files: the same columns, that day's values."""
    with time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False):
        risk = RiskFactory(code="X1", likelihood=2, impact=2, owner="Ann")
        risk_assess(risk=risk, likelihood=2, impact=2, rationale="First.", user=staff_member)
    with time_machine.travel(datetime.datetime(2026, 3, 3, 12, tzinfo=datetime.UTC), tick=False):
        risk_assess(risk=risk, likelihood=5, impact=5, rationale="Worse.", user=staff_member)
        risk.refresh_from_db()
        risk_update(risk=risk, user=staff_member, owner="Bob")

    client.force_login(auditor)
    api = client.get("/api/v1/risks/?format=csv&as_of=2026-03-02")
    (machine,) = csv.DictReader(io.StringIO(b"".join(api.streaming_content).decode()))
    client.force_login(board_member)
    board = client.get("/risks/export.csv?as_of=2026-03-02")
    title, text = b"".join(board.streaming_content).decode("utf-8-sig").split("\r\n", 1)
    assert title == "the register as of 2026-03-02; Filters: As of (YYYY-MM-DD): 2026-03-02"
    (human,) = csv.DictReader(io.StringIO(text))
    book = load_workbook(io.BytesIO(client.get("/risks/export.xlsx?as_of=2026-03-02").content))
    sheet = [[c.value for c in row] for row in book["Risks"].iter_rows(min_row=2)]
    cells = dict(zip(sheet[0], sheet[1], strict=True))

    assert (machine["owner"], machine["score"], machine["rating"]) == ("Ann", "4", "Low")
    assert machine["above_appetite"] == "False"
    assert (human["Owner"], human["Score"], human["Rating"]) == ("Ann", "4", "Low")
    assert (cells["Owner"], cells["Score"], cells["Rating"]) == ("Ann", 4, "Low")
    assert human["Above appetite"] == "No" and cells["Above appetite"] is False
    assert len(machine) == len(human) == len(cells) == len(columns.REGISTER_COLUMNS)


# DESIGN.md section 3 and every client rely on these names: the columns may grow, not change.
API_CONTRACT = [
    "code", "title", "statement", "category", "status", "owner", "owner_agency",
    "supporting_agencies", "phases", "key_actions", "likelihood", "impact", "score", "rating",
    "above_appetite", "confidence", "last_assessed_at", "inherent_likelihood",
    "inherent_impact", "target_likelihood", "target_impact", "target_score", "response",
    "mitigation_strategy", "contingency_plan", "trigger_conditions", "review_frequency_days",
    "next_review_due", "review_overdue", "closure_reason", "closed_by", "closed_at",
    "open_breaches", "created_at", "updated_at", "version", "links",
]  # fmt: skip


def test_the_json_fields_come_from_the_columns_and_keep_their_names():
    assert list(RiskSerializer.Meta.fields) == list(columns.API_FIELDS) == API_CONTRACT
    assert list(RiskSerializer().fields) == API_CONTRACT


def test_the_admin_list_shows_register_columns_with_their_headers(client, staff_member):
    RiskFactory(code="X1")
    client.force_login(staff_member)
    html = client.get("/admin/risks/risk/").content.decode()
    assert set(columns.ADMIN_LIST) <= {c.name for c in columns.REGISTER_COLUMNS}
    for name in ("rating", "next_review_due", "owner_agency"):
        assert f">{columns.column(name).header}<" in html
