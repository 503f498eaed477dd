"""Key risk indicators, their breaches and metric readings over real HTTP."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from risks.models import Indicator, IndicatorBreach
from roadmap.models import MetricReading
from tests.factories import IndicatorFactory, MetricFactory, RiskFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def homicides(db):
    """R3 flags when drug-related homicides go above 30,000."""
    return IndicatorFactory(risk=RiskFactory(code="R3"), threshold=30000)


def _record(client, metric_id: int, value, day: str = "2027-06-30", **extra):
    return client.post(
        f"/api/v1/metrics/{metric_id}/readings/",
        {"observed_on": day, "value": value, "source": "INEGI", **extra},
    )


def test_a_reading_above_the_threshold_flags_the_risk(api, staff_member, auditor, homicides):
    staff = api(staff_member)

    below = _record(staff, homicides.metric_id, "29999.50", day="2027-03-31")
    assert below.status_code == HTTPStatus.CREATED, below.text
    assert below.json()["flagged_risks"] == []
    assert api(auditor).get("/api/v1/risks/R3/").json()["open_breaches"] == 0

    above = _record(staff, homicides.metric_id, 31200)
    assert above.status_code == HTTPStatus.CREATED, above.text
    assert above.json()["flagged_risks"] == ["R3"]
    assert above.json()["recorded_by"] == staff_member.username

    reader = api(auditor)
    assert reader.get("/api/v1/risks/R3/").json()["open_breaches"] == 1
    assert reader.get("/api/v1/indicators/").json()["results"][0]["open_breaches"] == 1
    breaches = reader.get("/api/v1/breaches/?risk=R3&status=open").json()["results"]
    assert len(breaches) == 1
    assert breaches[0]["reading"]["value"] == "31200.00"
    assert (breaches[0]["risk"], breaches[0]["threshold"]) == ("R3", "30000.00")

    readings = reader.get(f"/api/v1/metrics/{homicides.metric_id}/readings/").json()
    assert [r["observed_on"] for r in readings["results"]] == ["2027-06-30", "2027-03-31"]


def test_dismiss_a_breach_with_a_reason(api, staff_member, auditor, homicides):
    staff = api(staff_member)
    _record(staff, homicides.metric_id, 31200)
    breach = IndicatorBreach.objects.get()
    path = f"/api/v1/breaches/{breach.pk}/dismiss/"

    missing = staff.post(path, {})
    assert missing.status_code == HTTPStatus.BAD_REQUEST
    assert "reason" in missing.json()
    assert api(auditor).post(path, {"reason": "x"}).status_code == HTTPStatus.FORBIDDEN

    dismissed = staff.post(path, {"reason": "Seasonal peak, within forecast."})
    assert dismissed.status_code == HTTPStatus.OK, dismissed.text
    assert (dismissed.json()["status"], dismissed.json()["resolved_by"]) == (
        "dismissed",
        staff_member.username,
    )
    assert api(auditor).get("/api/v1/risks/R3/").json()["open_breaches"] == 0

    again = staff.post(path, {"reason": "Again."})
    assert again.status_code == HTTPStatus.CONFLICT
    assert "already resolved" in again.json()["detail"]
    assert staff.post("/api/v1/breaches/999999/dismiss/", {"reason": "x"}).status_code == 404


def test_invoking_the_contingency_resolves_its_breaches(api, staff_member, homicides):
    staff = api(staff_member)
    _record(staff, homicides.metric_id, 31200)
    staff.post("/api/v1/risks/R3/invoke-contingency/", {"reason": "Threshold crossed."})
    breach = staff.get("/api/v1/breaches/").json()["results"][0]
    assert breach["status"] == "contingency_invoked"


def test_bad_reading_is_400_naming_the_field(api, staff_member, homicides):
    client = api(staff_member)
    for payload, field in [
        ({"observed_on": "30/06/2027"}, "observed_on"),
        ({"observed_on": "2027-02-30"}, "observed_on"),
        ({"value": "lots"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"value": "1" * 20}, "value"),
        ({"source": ""}, "source"),
        ({"source": "s" * 301}, "source"),
    ]:
        body = {"observed_on": "2027-06-30", "value": 1, "source": "INEGI", **payload}
        response = client.post(f"/api/v1/metrics/{homicides.metric_id}/readings/", body)
        assert response.status_code == HTTPStatus.BAD_REQUEST, payload
        assert field in response.json(), payload
    assert not MetricReading.objects.exists()


def test_same_reading_twice_is_400(api, staff_member, homicides):
    staff = api(staff_member)
    assert _record(staff, homicides.metric_id, 5).status_code == HTTPStatus.CREATED
    assert _record(staff, homicides.metric_id, 6).status_code == HTTPStatus.BAD_REQUEST
    assert MetricReading.objects.count() == 1


def test_readers_cannot_record_readings(api, auditor, board_member, staff_member, homicides):
    for persona in (auditor, board_member):
        assert _record(api(persona), homicides.metric_id, 5).status_code == 403
    assert api(auditor).get(f"/api/v1/metrics/{homicides.metric_id}/readings/").status_code == 200
    assert not MetricReading.objects.exists()
    assert _record(api(staff_member), 999999, 5).status_code == HTTPStatus.NOT_FOUND


def test_staff_create_and_change_an_indicator(api, staff_member, auditor):
    RiskFactory(code="R5")
    metric = MetricFactory(name="Coca cultivation")
    staff = api(staff_member)
    payload = {"risk": "R5", "metric": metric.pk, "comparison": "above", "threshold": "355000"}

    created = staff.post("/api/v1/indicators/", payload)
    assert created.status_code == HTTPStatus.CREATED, created.text
    assert created.json()["metric_name"] == "Coca cultivation"
    path = f"/api/v1/indicators/{created.json()['id']}/"

    assert staff.post("/api/v1/indicators/", payload).status_code == HTTPStatus.BAD_REQUEST
    changed = staff.patch(path, {"threshold": "360000", "active": False})
    assert changed.status_code == HTTPStatus.OK, changed.text
    assert (changed.json()["threshold"], changed.json()["active"]) == ("360000.00", False)
    assert Indicator.objects.get().history.first().history_user == staff_member

    reader = api(auditor)
    assert reader.get(path).json()["threshold"] == "360000.00"
    assert reader.post("/api/v1/indicators/", payload).status_code == HTTPStatus.FORBIDDEN
    assert reader.patch(path, {"active": True}).status_code == HTTPStatus.FORBIDDEN
    assert staff.delete(path).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_bad_indicator_is_400(api, staff_member):
    RiskFactory(code="R5")
    metric = MetricFactory()
    client = api(staff_member)
    for payload, field in [
        ({"risk": "R404"}, "risk"),
        ({"metric": 999999}, "metric"),
        ({"comparison": "sideways"}, "comparison"),
        ({"threshold": "1e40"}, "threshold"),
    ]:
        body = {"risk": "R5", "metric": metric.pk, "comparison": "above", "threshold": 1}
        response = client.post("/api/v1/indicators/", {**body, **payload})
        assert response.status_code == HTTPStatus.BAD_REQUEST, payload
        assert field in response.json(), payload
    assert not Indicator.objects.exists()


def test_bad_filters_are_400(api, auditor):
    client = api(auditor)
    for path in [
        "/api/v1/indicators/?risk=R404",
        "/api/v1/indicators/?metric=x",
        "/api/v1/indicators/?active=maybe",
        "/api/v1/breaches/?status=gone",
        "/api/v1/breaches/?after=soon",
    ]:
        assert client.get(path).status_code == HTTPStatus.BAD_REQUEST, path


def test_seeded_indicator_flags_r3_when_homicides_pass_30000(api, seed, staff_member, auditor):
    metric_id = Indicator.objects.get(risk__code="R3").metric_id
    response = _record(api(staff_member), metric_id, 30500, source="INEGI annual")
    assert response.status_code == HTTPStatus.CREATED, response.text
    assert response.json()["flagged_risks"] == ["R3"]
    risks = api(auditor).get("/api/v1/risks/?ordering=code").json()["results"]
    assert {r["code"]: r["open_breaches"] for r in risks} == {
        "R1": 0,
        "R2": 0,
        "R3": 1,
        "R4": 0,
        "R5": 0,
    }
