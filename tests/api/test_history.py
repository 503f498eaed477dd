"""GET /api/v1/history/: who changed what and when, field by field, for every tracked record."""

from __future__ import annotations

import csv
import datetime
import io
from http import HTTPStatus

import pytest
from django.utils import timezone

from tests.factories import KeyActionFactory, MitigationActionFactory, RiskFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def edited(api, staff_member):
    """R1 created, then renamed and set to monitoring by sam.staff through the API."""
    RiskFactory(code="R1", title="Old title")
    RiskFactory(code="R2")
    client = api(staff_member)
    response = client.patch(
        "/api/v1/risks/R1/", {"title": "New title", "status": "monitoring", "version": 1}
    )
    assert response.status_code == HTTPStatus.OK, response.text


def test_risk_history_with_field_by_field_changes(api, auditor, edited):
    response = api(auditor).get("/api/v1/history/?risk=R1")

    assert response.status_code == HTTPStatus.OK
    changed, created = response.json()["results"]
    assert (changed["model"], changed["history_type"], changed["user"]) == (
        "risk",
        "~",
        "sam.staff",
    )
    assert changed["object_repr"] == "R1: New title"
    assert changed["risk"] == "R1"
    assert sorted(changed["changes"], key=lambda c: c["field"]) == [
        {"field": "status", "old": "open", "new": "monitoring"},
        {"field": "title", "old": "Old title", "new": "New title"},
    ]
    assert created["history_type"] == "+"
    assert {"field": "title", "old": None, "new": "Old title"} in created["changes"]
    assert changed["object_id"] == created["object_id"]


def test_filters(api, auditor, edited):
    client = api(auditor)
    for query, count in [
        ("", 3),
        ("model=risk", 3),
        ("risk=R2", 1),
        ("user=sam.staff", 1),
        ("user=nobody", 0),
        ("type=~", 1),
        ("type=%2B", 2),
    ]:
        response = client.get(f"/api/v1/history/?{query}")
        assert response.status_code == HTTPStatus.OK, query
        assert len(response.json()["results"]) == count, query


def test_date_range_and_object(api, auditor, edited):
    client = api(auditor)
    now = timezone.now()
    later = (now + datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    earlier = (now - datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert len(client.get(f"/api/v1/history/?after={earlier}").json()["results"]) == 3
    assert client.get("/api/v1/history/", params={"after": later}).json()["results"] == []
    assert client.get("/api/v1/history/", params={"before": earlier}).json()["results"] == []
    rows = client.get("/api/v1/history/?risk=R1").json()["results"]
    by_object = client.get(f"/api/v1/history/?model=risk&object={rows[0]['object_id']}").json()[
        "results"
    ]
    assert [r["history_id"] for r in by_object] == [r["history_id"] for r in rows]


def test_other_models(api, auditor, staff_member, edited):
    risk = RiskFactory(code="R3")
    mitigation = MitigationActionFactory(risk=risk, title="Draft")
    client = api(staff_member)
    client.patch(f"/api/v1/mitigations/{mitigation.pk}/", {"percent_complete": 40, "version": 1})
    action = KeyActionFactory()
    client.patch(f"/api/v1/key-actions/{action.pk}/", {"status": "delayed", "version": 1})

    reader = api(auditor)
    rows = reader.get("/api/v1/history/?model=mitigation&risk=R3").json()["results"]
    assert [r["history_type"] for r in rows] == ["~", "+"]
    assert rows[0]["changes"] == [{"field": "percent_complete", "old": 0, "new": 40}]
    assert rows[0]["risk"] == "R3"
    rows = reader.get("/api/v1/history/?model=key_action&type=~").json()["results"]
    assert rows[0]["changes"] == [{"field": "status", "old": "not_started", "new": "delayed"}]
    assert rows[0]["risk"] is None


def test_bad_filters_are_400(api, auditor, edited):
    client = api(auditor)
    for query, param in [
        ("model=spaceship", "model"),
        ("model=metric&risk=R1", "risk"),
        ("risk=R404", "risk"),
        ("object=abc", "object"),
        ("after=last-week", "after"),
        ("type=x", "type"),
    ]:
        response = client.get(f"/api/v1/history/?{query}")
        assert response.status_code == HTTPStatus.BAD_REQUEST, query
        assert param in response.json(), query


def test_cursor_pagination_and_csv(api, auditor, edited):
    client = api(auditor)
    first = client.get("/api/v1/history/?page_size=2").json()
    second = client.get(first["next"].replace(client.base_url, "")).json()
    ids = [r["history_id"] for r in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 3

    response = client.get("/api/v1/history/?format=csv&risk=R1&type=~")
    assert response.headers["Content-Type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(response.text))
    assert row["user"] == "sam.staff"
    assert "title: Old title -> New title" in row["changes"]


def test_needs_view_permission(api, outsider):
    assert api().get("/api/v1/history/").status_code == HTTPStatus.UNAUTHORIZED
    assert api(outsider).get("/api/v1/history/").status_code == HTTPStatus.FORBIDDEN
    assert api(outsider).get("/api/v1/history/?model=review").status_code == 403


def test_read_only(api, staff_member):
    assert api(staff_member).post("/api/v1/history/", {}).status_code == 405
