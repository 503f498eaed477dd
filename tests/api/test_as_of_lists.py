"""?as_of=D on the lists of a risk's records: mitigations, indicators and breaches as they stood
at the end of day D (from their change history), assessments and trigger log entries written
by then."""

from __future__ import annotations

import csv
import datetime
import io
from http import HTTPStatus

import pytest
import time_machine
from django.urls import reverse

from risks.models import IndicatorBreach, MitigationAction
from risks.services import (
    contingency_invoke,
    indicator_create,
    indicator_update,
    mitigation_create,
    mitigation_update,
    risk_assess,
)
from roadmap.services import metric_reading_record
from tests.factories import MetricFactory, RiskFactory

pytestmark = pytest.mark.django_db

DAY1, DAY3, DAY5 = (datetime.datetime(2026, 3, d, 12, tzinfo=datetime.UTC) for d in (1, 3, 5))


@pytest.fixture
def story(staff_member):
    """Day 1: risk X1, mitigation M (planned, 0%), indicator (above 100), a reading of 120 opens
    a breach. Day 3: M in progress at 60%, a second mitigation, re-rated 5x5, threshold 200, the
    contingency invoked (which resolves the breach). Day 5: M done."""
    with time_machine.travel(DAY1, tick=False):
        risk = RiskFactory(code="X1")
        mitigation = mitigation_create(
            user=staff_member,
            risk=risk,
            title="Brief the committee",
            owner_agency=risk.owner_agency,
            due_date=datetime.date(2026, 6, 30),
        )
        metric = MetricFactory()
        indicator = indicator_create(
            user=staff_member, risk=risk, metric=metric, comparison="above", threshold=100
        )
        metric_reading_record(
            metric=metric,
            observed_on=datetime.date(2026, 3, 1),
            value=120,
            source="S",
            user=staff_member,
        )
    with time_machine.travel(DAY3, tick=False):
        mitigation_update(
            mitigation=mitigation,
            user=staff_member,
            expected_version=mitigation.version,
            status=MitigationAction.Status.IN_PROGRESS,
            percent_complete=60,
        )
        mitigation_create(
            user=staff_member,
            risk=risk,
            title="Second action",
            owner_agency=risk.owner_agency,
            due_date=datetime.date(2026, 7, 31),
        )
        risk_assess(risk=risk, likelihood=5, impact=5, rationale="Worse.", user=staff_member)
        indicator_update(indicator=indicator, user=staff_member, threshold=200)
        contingency_invoke(risk=risk, user=staff_member, reason="Vote failed.")
    with time_machine.travel(DAY5, tick=False):
        mitigation.refresh_from_db()
        mitigation_update(
            mitigation=mitigation,
            user=staff_member,
            expected_version=mitigation.version,
            status=MitigationAction.Status.DONE,
            percent_complete=100,
        )
    return risk


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def _rows(client, name: str, **params) -> list[dict]:
    response = client.get(reverse(f"api:{name}-list"), params)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["results"]


def test_mitigations_as_they_stood(story, auditor_client):
    def progress(day, **filters):
        rows = _rows(auditor_client, "mitigationaction", as_of=day, **filters)
        return [(row["title"], row["status"], row["percent_complete"]) for row in rows]

    assert progress("2026-02-28") == []
    assert progress("2026-03-02") == [("Brief the committee", "planned", 0)]
    assert progress("2026-03-04") == [
        ("Brief the committee", "in_progress", 60),
        ("Second action", "planned", 0),
    ]
    assert progress("2026-03-06", status="done") == [("Brief the committee", "done", 100)]
    assert progress("2026-03-04", status="done") == []  # the filter reads the state then
    row = _rows(auditor_client, "mitigationaction", as_of="2026-03-04", risk="X1")[0]
    assert (row["version"], row["updated_at"][:10]) == (2, "2026-03-03")
    today = _rows(auditor_client, "mitigationaction")[0]
    assert (today["status"], today["id"]) == ("done", row["id"])  # the record's id, not history's


def test_assessments_dated_on_or_before_the_day(story, auditor_client):
    def scores(day):
        return [row["score"] for row in _rows(auditor_client, "assessment", as_of=day, risk="X1")]

    assert scores("2026-03-02") == [9]
    assert scores("2026-03-04") == [25, 9]


def test_triggers_indicators_and_breaches_as_they_stood(story, auditor_client):
    assert _rows(auditor_client, "triggerentry", as_of="2026-03-02") == []
    assert [r["kind"] for r in _rows(auditor_client, "triggerentry", as_of="2026-03-04")] == [
        "invoked"
    ]
    day2 = _rows(auditor_client, "indicator", as_of="2026-03-02")
    assert [(r["threshold"], r["open_breaches"]) for r in day2] == [("100.00", 1)]
    day4 = _rows(auditor_client, "indicator", as_of="2026-03-04")
    assert [(r["threshold"], r["open_breaches"]) for r in day4] == [("200.00", 0)]
    open_then = _rows(auditor_client, "indicatorbreach", as_of="2026-03-02", status="open")
    assert [(r["risk"], r["status"], r["resolved_at"]) for r in open_then] == [("X1", "open", None)]
    later = _rows(auditor_client, "indicatorbreach", as_of="2026-03-04")
    assert [r["status"] for r in later] == [IndicatorBreach.Status.CONTINGENCY_INVOKED]
    assert _rows(auditor_client, "indicatorbreach", as_of="2026-02-28") == []


def test_as_of_as_csv(story, auditor_client):
    response = auditor_client.get(
        reverse("api:mitigationaction-list"), {"as_of": "2026-03-02", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["status"], r["percent_complete"], r["version"]) for r in rows] == [
        ("planned", "0", "1")
    ]


@pytest.mark.parametrize(
    "name", ["mitigationaction", "assessment", "triggerentry", "indicator", "indicatorbreach"]
)
def test_a_bad_as_of_is_a_400_and_the_past_is_read_only(story, staff_member, client, name):
    client.force_login(staff_member)
    response = client.get(reverse(f"api:{name}-list"), {"as_of": "2026-02-30"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "as_of" in response.json()
    mitigation = MitigationAction.objects.get(title="Second action")
    url = reverse("api:mitigationaction-detail", args=[mitigation.pk]) + "?as_of=2026-03-04"
    response = client.patch(
        url, {"title": "New", "version": mitigation.version}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert MitigationAction.objects.get(pk=mitigation.pk).title == "Second action"


def test_the_schema_documents_as_of(client, auditor):
    client.force_login(auditor)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("mitigations", "assessments", "triggers", "indicators", "breaches"):
        parameters = schema["paths"][f"/api/v1/{path}/"]["get"]["parameters"]
        as_of = next(p for p in parameters if p["name"] == "as_of")
        assert as_of["schema"]["format"] == "date" and "end of that day" in as_of["description"]
