"""The inputs an adversarial pass found answering 500 (issue 12): each now answers a 4xx in
JSON that says what is wrong, and writes nothing."""

from __future__ import annotations

import base64
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.test import Client

from accounts.services import token_create
from risks.api import views as risk_views
from risks.models import MitigationAction
from roadmap.models import MetricReading
from tests.factories import (
    AgencyFactory,
    MetricFactory,
    MitigationActionFactory,
    RiskFactory,
    TriggerEntryFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _is_json(response) -> bool:
    return response.headers["Content-Type"].startswith("application/json")


def test_done_below_100_percent_is_400_with_the_rule(api, staff_member):
    RiskFactory(code="R1")
    AgencyFactory(code="STATE")
    client = api(staff_member)
    body = {"risk": "R1", "title": "Do it", "owner_agency": "STATE", "due_date": "2030-01-01"}
    done_at_half = {**body, "status": "done", "percent_complete": 50}
    created = client.post("/api/v1/mitigations/", done_at_half)
    assert created.status_code == HTTPStatus.BAD_REQUEST, created.text
    assert "must be 100% complete" in created.text
    assert not MitigationAction.objects.exists()

    mitigation = MitigationActionFactory(percent_complete=40)
    patched = client.patch(
        f"/api/v1/mitigations/{mitigation.pk}/", {"status": "done", "version": mitigation.version}
    )
    assert patched.status_code == HTTPStatus.BAD_REQUEST, patched.text
    assert "must be 100% complete" in patched.text
    mitigation.refresh_from_db()
    assert (mitigation.status, mitigation.version) == ("planned", 1)


def _cursor(raw: str) -> str:
    return quote(base64.b64encode(raw.encode()).decode())


def test_a_tampered_cursor_is_404(api, auditor, staff_member):
    TriggerEntryFactory(recorded_by=staff_member)
    RiskFactory()
    client = api(auditor)
    for path in [
        "/api/v1/triggers/?cursor=cD1hYmM%3D",  # p=abc
        f"/api/v1/triggers/?cursor={_cursor('p=99999999999999999999999')}",
        f"/api/v1/triggers/?cursor={_cursor('o=5&p=1%00')}",
        f"/api/v1/assessments/?ordering=id&cursor={_cursor('p=abc')}",
        f"/api/v1/assessments/?cursor={_cursor('p=not-a-date')}",
        f"/api/v1/assessments/?cursor={_cursor('p=9999-12-31 23:59:59%2B14:00')}",
        f"/api/v1/history/?cursor={_cursor('r=1&p=yesterday')}",
        "/api/v1/triggers/?cursor=%FF%FE",
    ]:
        response = client.get(path)
        assert response.status_code == HTTPStatus.NOT_FOUND, (path, response.text)
        assert response.json()["detail"] == "Invalid cursor", path
    # A cursor DRF handed out still works.
    first = client.get("/api/v1/assessments/?page_size=1").json()
    assert client.session.get(first["next"], timeout=30).status_code == HTTPStatus.OK


def test_a_year_out_of_range_is_400_naming_the_field(api, staff_member):
    metric = MetricFactory()
    client = api(staff_member)
    for day in ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"]:
        response = client.post(
            f"/api/v1/metrics/{metric.pk}/readings/",
            {"observed_on": day, "value": 5, "source": "INEGI"},
        )
        assert response.status_code == HTTPStatus.BAD_REQUEST, (day, response.text)
        assert "between 1900-01-01 and 2200-12-31" in response.json()["observed_on"][0]
    assert not MetricReading.objects.exists()
    ok = client.post(
        f"/api/v1/metrics/{metric.pk}/readings/",
        {"observed_on": "2200-12-31", "value": 5, "source": "INEGI"},
    )
    assert ok.status_code == HTTPStatus.CREATED, ok.text


def test_nul_in_the_path_or_query_is_refused_in_json(api, auditor):
    client = api(auditor)
    for path, status in [
        ("/api/v1/risks/R1%00/", HTTPStatus.NOT_FOUND),
        ("/api/v1/reviews/%00/", HTTPStatus.NOT_FOUND),
        ("/api/v1/risks/?owner=%00", HTTPStatus.BAD_REQUEST),
        ("/api/v1/triggers/?cursor=%00", HTTPStatus.BAD_REQUEST),
        ("/api/v1/risks/?%00=1", HTTPStatus.BAD_REQUEST),
    ]:
        response = client.get(path)
        assert response.status_code == status, path
        assert "NUL" in response.json()["detail"], path


def test_every_api_404_is_json(api, auditor):
    client = api(auditor)
    for path in [
        "/api/v1/agencies/%C2%84/",  # fails the lookup pattern, so no view is reached
        "/api/v1/mitigations/-1/",
        "/api/v1/risks/R1/no-such-action/",
        "/api/nothing/",
        "/api/v2/risks/",
    ]:
        response = client.get(path)
        assert response.status_code == HTTPStatus.NOT_FOUND, path
        assert _is_json(response), path
        assert response.json() == {"detail": "Not found."}, path


def test_a_server_error_under_the_api_is_json(auditor, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(risk_views.HeatmapView, "get", broken)
    _, key = token_create(user=auditor, name="hostile")
    client = Client(raise_request_exception=False, headers={"Authorization": f"Token {key}"})
    response = client.get("/api/v1/heatmap/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert _is_json(response)
    assert "nothing was saved" in response.json()["detail"]
    # Pages keep their HTML error page.
    page = Client(raise_request_exception=False)
    page.force_login(auditor)
    assert "text/html" in page.get("/no-such-page/").headers["Content-Type"]
