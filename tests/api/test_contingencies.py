"""Contingencies over real HTTP: Staff invoke, update and stand down; readers are refused."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from risks.models import Risk, TriggerEntry
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db(transaction=True)

ENTRY = {
    "reason": "Homicides above 30,000 for two quarters.",
    "evidence": "INEGI quarterly report.",
    "actions_taken": "Security cooperation surge.",
    "authorised_by": "Deputy Director, INL",
}


def test_staff_invoke_r3_then_a_second_invocation_is_refused_then_stand_down(
    api, seed, staff_member
):
    client = api(staff_member)

    invoked = client.post("/api/v1/risks/R3/invoke-contingency/", ENTRY)
    assert invoked.status_code == HTTPStatus.CREATED, invoked.text
    body = invoked.json()
    assert (body["kind"], body["risk"], body["sequence"]) == ("invoked", "R3", 1)
    assert (body["risk_status"], body["previous_status"]) == ("contingency_active", "open")
    assert body["recorded_by"] == staff_member.username
    assert body["authorised_by"] == ENTRY["authorised_by"]
    assert client.get("/api/v1/risks/R3/").json()["status"] == "contingency_active"

    again = client.post("/api/v1/risks/R3/invoke-contingency/", ENTRY)
    assert again.status_code == HTTPStatus.CONFLICT
    assert "already active" in again.json()["detail"]
    assert TriggerEntry.objects.count() == 1

    update = client.post("/api/v1/risks/R3/contingency-update/", {"reason": "Week 2 report."})
    assert update.status_code == HTTPStatus.CREATED, update.text
    assert update.json()["kind"] == "update"

    stood_down = client.post("/api/v1/risks/R3/stand-down/", {**ENTRY, "reason": "Calmer."})
    assert stood_down.status_code == HTTPStatus.CREATED, stood_down.text
    assert (stood_down.json()["kind"], stood_down.json()["risk_status"]) == ("stood_down", "open")
    assert Risk.objects.get(code="R3").status == "open"


def test_stand_down_or_update_with_nothing_active_is_409_and_writes_nothing(api, staff_member):
    RiskFactory(code="R3")
    client = api(staff_member)
    for path in ("stand-down", "contingency-update"):
        response = client.post(f"/api/v1/risks/R3/{path}/", ENTRY)
        assert response.status_code == HTTPStatus.CONFLICT
        assert "No contingency is active for R3" in response.json()["detail"]
    assert not TriggerEntry.objects.exists()


def test_auditors_and_board_get_403(api, auditor, board_member, staff_member):
    RiskFactory(code="R3")
    for persona in (auditor, board_member):
        client = api(persona)
        for path in ("invoke-contingency", "stand-down", "contingency-update"):
            response = client.post(f"/api/v1/risks/R3/{path}/", ENTRY)
            assert response.status_code == HTTPStatus.FORBIDDEN, (persona, path)
    assert not TriggerEntry.objects.exists()
    # ...also with a contingency active, where standing down would otherwise succeed.
    api(staff_member).post("/api/v1/risks/R3/invoke-contingency/", ENTRY)
    response = api(auditor).post("/api/v1/risks/R3/stand-down/", ENTRY)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Risk.objects.get(code="R3").status == "contingency_active"
    assert TriggerEntry.objects.count() == 1


def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, staff_member):
    RiskFactory(code="R3")
    client = api(staff_member)
    for payload, field in [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x", "authorised_by": "a" * 201}, "authorised_by"),
        ({"reason": ["not", "text"]}, "reason"),
        ({"reason": "x", "evidence": {"a": 1}}, "evidence"),
    ]:
        response = client.post("/api/v1/risks/R3/invoke-contingency/", payload)
        assert response.status_code == HTTPStatus.BAD_REQUEST, payload
        assert field in response.json(), payload
    assert not TriggerEntry.objects.exists()
    assert Risk.objects.get(code="R3").status == "open"


def test_unknown_risk_is_404_and_get_is_405(api, staff_member):
    client = api(staff_member)
    assert client.post("/api/v1/risks/R404/invoke-contingency/", ENTRY).status_code == 404
    RiskFactory(code="R3")
    assert client.get("/api/v1/risks/R3/invoke-contingency/").status_code == 405


def test_closed_risk_cannot_be_invoked(api, staff_member):
    from risks.services import risk_close

    risk_close(risk=RiskFactory(code="R3"), reason="Retired.", user=staff_member)
    response = api(staff_member).post("/api/v1/risks/R3/invoke-contingency/", ENTRY)
    assert response.status_code == HTTPStatus.CONFLICT
    assert "closed" in response.json()["detail"]


def test_the_log_shows_the_entries_to_every_role(api, auditor, board_member, staff_member):
    RiskFactory(code="R3")
    staff = api(staff_member)
    staff.post("/api/v1/risks/R3/invoke-contingency/", ENTRY)
    staff.post("/api/v1/risks/R3/stand-down/", {"reason": "Calmer."})

    for persona in (auditor, board_member, staff_member):
        response = api(persona).get("/api/v1/triggers/")

        assert response.status_code == HTTPStatus.OK, persona
        rows = response.json()["results"]
        assert [(r["sequence"], r["kind"], r["risk"]) for r in rows] == [
            (2, "stood_down", "R3"),
            (1, "invoked", "R3"),
        ]
        assert rows[0]["prev_hash"] == rows[1]["entry_hash"]
        assert api(persona).get("/api/v1/triggers/verify/").json()["ok"] is True
