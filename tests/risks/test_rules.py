"""Each rule of risks/rules.py, first without a database, then through every face: the admin,
the API and an export give the same answer."""

from __future__ import annotations

import csv
import datetime
import io
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from openpyxl import load_workbook

from risks import rules
from risks.importing import register_import
from risks.models import Risk
from risks.services import risk_update
from tests.factories import AgencyFactory, RiskFactory

D = datetime.date(2026, 6, 30)


# --- The rules alone ------------------------------------------------------------------------


def test_score_is_the_product_and_unknown_while_a_level_is():
    assert rules.score(4, 5) == 20
    assert rules.score(None, 5) is None


def test_above_appetite_needs_an_appetite_and_a_score():
    assert rules.above_appetite(10, 9) is True
    assert rules.above_appetite(9, 9) is False
    assert rules.above_appetite(10, None) is None


def test_next_review_counts_from_the_last_one():
    assert rules.next_review_due(reviewed_on=D, frequency_days=30) == datetime.date(2026, 7, 30)
    assert rules.next_review_due(reviewed_on=None, frequency_days=30) is None


@pytest.mark.parametrize(
    ("due", "status", "overdue"),
    [
        (D - datetime.timedelta(1), "open", True),
        (D, "open", False),
        (None, "open", False),
        (D - datetime.timedelta(1), "closed", False),
    ],
)
def test_overdue(due, status, overdue):
    assert rules.is_overdue(next_review_due=due, status=status, on=D) is overdue


def test_workflow_statuses_are_reached_only_by_their_workflows():
    assert rules.status_edit_allowed("open", "monitoring")
    assert not rules.status_edit_allowed("open", "closed")
    assert not rules.status_edit_allowed("contingency_active", "open")
    assert rules.status_edit_allowed("closed", "closed")


def test_heatmap_counts_open_risks_unless_a_status_is_asked_for():
    assert rules.heatmap_includes_closed(status=None) is False
    assert rules.heatmap_includes_closed(status="") is False
    assert rules.heatmap_includes_closed(status="closed") is True


@pytest.mark.parametrize("code", ["a/b", "R 1", "", "x" * 21, "R1\n", "<b>"])
def test_bad_codes_are_refused(code):
    with pytest.raises(ValidationError):
        rules.code_validator(code)


def test_good_codes_pass():
    for code in ("R1", "G00001", "risk_6-b"):
        rules.code_validator(code)


# --- The same answer through every face -----------------------------------------------------


@pytest.fixture
def overdue_risk(db):
    return RiskFactory(
        code="OD1", next_review_due=timezone.localdate() - datetime.timedelta(days=3)
    )


@pytest.mark.django_db
def test_overdue_agrees_in_admin_api_csv_and_filter(overdue_risk, auditor, client):
    client.force_login(auditor)
    RiskFactory(code="OK1", owner_agency=overdue_risk.owner_agency)
    admin = client.get(reverse("admin:risks_risk_changelist")).content.decode()
    assert "overdue" in admin
    api = {r["code"]: r["review_overdue"] for r in client.get("/api/v1/risks/").json()["results"]}
    assert api == {"OD1": True, "OK1": False}
    response = client.get("/api/v1/risks/", {"format": "csv"})
    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert {r["code"]: r["review_overdue"] for r in rows} == {"OD1": "True", "OK1": "False"}
    filtered = client.get("/api/v1/risks/", {"review_overdue": "true"}).json()["results"]
    assert [r["code"] for r in filtered] == ["OD1"]


@pytest.mark.django_db
def test_a_code_the_api_refuses_the_admin_refuses(staff_member, client):
    client.force_login(staff_member)
    agency = AgencyFactory(code="ONDCP")
    body = {
        "code": "a/b",
        "title": "T",
        "statement": "S",
        "category": "security",
        "owner": "O",
        "owner_agency": "ONDCP",
        "likelihood": 2,
        "impact": 2,
        "target_likelihood": 1,
        "target_impact": 1,
        "mitigation_strategy": "M",
        "contingency_plan": "C",
        "rationale": "R",
    }
    api = client.post("/api/v1/risks/", body, content_type="application/json")
    assert api.status_code == HTTPStatus.BAD_REQUEST and "code" in api.json()
    form = {**body, "owner_agency": agency.pk, "confidence": "medium", "response": "reduce"}
    form.update({"status": "open", "mitigations-TOTAL_FORMS": 0, "mitigations-INITIAL_FORMS": 0})
    page = client.post(reverse("admin:risks_risk_add"), form)
    assert page.status_code == HTTPStatus.OK
    assert "code" in page.context["adminform"].form.errors
    assert not Risk.objects.exists()


@pytest.mark.django_db
def test_next_review_is_derived_never_typed(staff_member, client):
    risk = RiskFactory(code="NR1")
    with pytest.raises(ValidationError):
        risk_update(risk=risk, user=staff_member, next_review_due=datetime.date(2099, 1, 1))
    risk_update(risk=risk, user=staff_member, review_frequency_days=7)
    risk.refresh_from_db()
    assert risk.next_review_due == risk.last_assessed_at.date() + datetime.timedelta(days=7)
    client.force_login(staff_member)
    page = client.get(reverse("admin:risks_risk_change", args=[risk.pk]))
    assert "next_review_due" not in page.context["adminform"].form.fields


@pytest.mark.django_db
def test_admin_change_without_a_version_is_refused(staff_member, client):
    risk = RiskFactory(code="V1")
    client.force_login(staff_member)
    page = client.get(reverse("admin:risks_risk_change", args=[risk.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"mitigations-TOTAL_FORMS": 0, "mitigations-INITIAL_FORMS": 0, "title": "New"})
    data.pop("expected_version")
    response = client.post(reverse("admin:risks_risk_change", args=[risk.pk]), data)
    assert response.status_code == HTTPStatus.OK
    assert "expected_version" in response.context["adminform"].form.errors
    risk.refresh_from_db()
    assert risk.title != "New"


@pytest.mark.django_db
def test_heatmap_page_and_api_count_the_same_risks(seed, board_member, client):
    client.force_login(board_member)
    risk = Risk.objects.get(code="R5")
    Risk.objects.filter(pk=risk.pk).update(
        status="closed", closure_reason="x", closed_at=timezone.now()
    )
    for query in ({}, {"status": ""}, {"status": "closed"}):
        page = client.get(reverse("risks:heatmap"), query).context["grid"]
        api = client.get("/api/v1/heatmap/", query).json()
        assert page.total == api["total"] == (1 if query.get("status") else 4)
        # The exports: the API's grid as CSV, and the board's workbook (its grid counts what
        # the heatmap would of the same selection).
        cells = _csv_rows(client.get("/api/v1/heatmap/", {**query, "format": "csv"}))
        assert sum(int(cell["count"]) for cell in cells) == api["total"]
        book = load_workbook(io.BytesIO(client.get(reverse("risks:export-xlsx"), query).content))
        note = list(book["Current grid"].iter_rows(values_only=True))[1][0]  # under the title
        assert note.startswith(f"{api['total']} risks")


# --- Each rule once more, through the admin, the API and the exports -------------------------


def _admin_row(client, code: str) -> str:
    """The admin risk list's row of `code`, as HTML."""
    html = client.get(reverse("admin:risks_risk_changelist")).content.decode()
    return next(row for row in html.split("<tr")[1:] if f">{code}<" in row)


def _table(response) -> str:
    """A CSV's table: the board's file has a line naming its day and filters above it."""
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return text.split("\r\n", 1)[1] if text.startswith("the register ") else text


def _csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_table(response))))


def _csv(response) -> dict[str, dict]:
    rows = csv.DictReader(io.StringIO(_table(response)))
    return {row.get("code") or row["Code"]: row for row in rows}


def _xlsx_risks(client) -> dict[str, dict]:
    book = load_workbook(io.BytesIO(client.get(reverse("risks:export-xlsx")).content))
    rows = list(book["Risks"].iter_rows(values_only=True))[1:]  # under the filters line
    header = rows[0]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def _faces(client) -> tuple[dict, dict, dict, dict]:
    """The register through the API's JSON and CSV, and the board's CSV and XLSX."""
    api = {r["code"]: r for r in client.get("/api/v1/risks/").json()["results"]}
    api_csv = _csv(client.get("/api/v1/risks/", {"format": "csv"}))
    return api, api_csv, _csv(client.get(reverse("risks:export-csv"))), _xlsx_risks(client)


@pytest.mark.django_db
def test_score_band_and_appetite_agree_in_admin_api_and_exports(auditor, client):
    RiskFactory(code="S1", likelihood=4, impact=5)  # 20: Critical, above the appetite of 9
    RiskFactory(code="S2", likelihood=3, impact=3)  # 9: Moderate, at the appetite
    client.force_login(auditor)
    api, api_csv, board_csv, xlsx = _faces(client)
    for code, score, band, above in (("S1", 20, "Critical", True), ("S2", 9, "Moderate", False)):
        row = _admin_row(client, code)
        assert f">{score}<" in row and band in row
        assert (api[code]["score"], api[code]["rating"], api[code]["above_appetite"]) == (
            score,
            band,
            above,
        )
        assert (api_csv[code]["score"], api_csv[code]["rating"]) == (str(score), band)
        assert api_csv[code]["above_appetite"] == str(above)
        assert (board_csv[code]["Score"], board_csv[code]["Rating"]) == (str(score), band)
        assert board_csv[code]["Above appetite"] == ("Yes" if above else "No")
        assert (xlsx[code]["Score"], xlsx[code]["Rating"], xlsx[code]["Above appetite"]) == (
            score,
            band,
            above,
        )


@pytest.mark.django_db
def test_next_review_agrees_in_admin_api_and_exports_and_is_typed_nowhere(
    staff_member, auditor, client
):
    risk = RiskFactory(code="NR2")
    risk_update(risk=risk, user=staff_member, review_frequency_days=7)
    risk.refresh_from_db()
    due = risk.last_assessed_at.date() + datetime.timedelta(days=7)
    client.force_login(staff_member)
    patch = client.patch(
        f"/api/v1/risks/{risk.code}/",
        {"next_review_due": "2099-01-01", "version": risk.version},
        content_type="application/json",
    )
    # Not a field of RiskWriteSerializer: refused by name, with where the date comes from.
    assert patch.status_code == HTTPStatus.BAD_REQUEST
    assert "review_frequency_days" in patch.json()["next_review_due"][0]
    risk.refresh_from_db()
    assert risk.next_review_due == due
    client.force_login(auditor)
    api, api_csv, board_csv, xlsx = _faces(client)
    assert date_format(due) in _admin_row(client, "NR2")
    assert api["NR2"]["next_review_due"] == api_csv["NR2"]["next_review_due"] == due.isoformat()
    assert board_csv["NR2"]["Next review due"] == due.isoformat()
    assert xlsx["NR2"]["Next review due"].date() == due


@pytest.mark.django_db
def test_overdue_agrees_in_the_boards_files(overdue_risk, auditor, client):
    client.force_login(auditor)
    _, _, board_csv, xlsx = _faces(client)
    assert board_csv["OD1"]["Review overdue"] == "Yes" and xlsx["OD1"]["Review overdue"] is True


def _import(staff_member, rows: list[list]):
    return register_import(
        rows=enumerate(rows, start=1), user=staff_member, source_name="t.csv", dry_run=True
    )


def _exported(client) -> tuple[list[str], dict[str, list]]:
    text = _table(client.get(reverse("risks:export-csv")))
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, {row[0]: row for row in rows}


@pytest.mark.django_db
def test_workflow_statuses_are_refused_by_admin_api_and_import(staff_member, client):
    risk = RiskFactory(code="W1")
    client.force_login(staff_member)
    page = client.get(reverse("admin:risks_risk_change", args=[risk.pk]))
    offered = {value for value, _ in page.context["adminform"].form.fields["status"].choices}
    assert offered.isdisjoint(rules.WORKFLOW_STATUSES)
    for status in sorted(rules.WORKFLOW_STATUSES):
        api = client.patch(
            f"/api/v1/risks/{risk.code}/",
            {"status": status, "version": risk.version},
            content_type="application/json",
        )
        assert api.status_code == HTTPStatus.BAD_REQUEST and "status" in api.json()
    header, rows = _exported(client)
    edited = list(rows["W1"])
    edited[header.index("Status")] = "Closed"
    report = _import(staff_member, [header, edited])
    assert [error.column for error in report.errors] == ["Status"]
    assert Risk.objects.get(code="W1").status == "open"


@pytest.mark.django_db
def test_a_code_the_api_refuses_an_import_refuses(staff_member, client):
    RiskFactory(code="C1")
    client.force_login(staff_member)
    header, rows = _exported(client)
    new = list(rows["C1"])
    new[header.index("Code")] = "a/b"
    new[header.index("Version")] = ""
    report = _import(staff_member, [header, new])
    assert report.errors and {error.column for error in report.errors} == {"Code"}
    assert not Risk.objects.filter(code="a/b").exists()


@pytest.mark.django_db
def test_a_save_without_its_version_is_refused_by_api_and_import(staff_member, client):
    risk = RiskFactory(code="V2")
    client.force_login(staff_member)
    api = client.patch(
        f"/api/v1/risks/{risk.code}/", {"title": "New"}, content_type="application/json"
    )
    assert api.status_code == HTTPStatus.PRECONDITION_REQUIRED
    header, rows = _exported(client)
    edited = list(rows["V2"])
    edited[header.index("Title")] = "New"
    edited[header.index("Version")] = ""
    report = _import(staff_member, [header, edited])
    assert [error.column for error in report.errors] == ["Version"]
    assert Risk.objects.get(code="V2").title != "New"
