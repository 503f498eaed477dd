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

from risks import rules
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
