"""Per-operation limits: invoking a contingency and exporting have their own rates (settings
.RATE_LIMITS), on the API (DRF's scoped throttles) and on the pages (common/ratelimit.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import token_create
from risks.models import Risk
from tests.factories import MetricFactory, RiskFactory

pytestmark = pytest.mark.django_db

ENTRY = {
    "reason": "Homicides above 30,000 for two quarters.",
    "evidence": "INEGI quarterly report.",
    "actions_taken": "Security cooperation surge.",
    "authorised_by": "Deputy Director, INL",
}


@pytest.fixture
def rates(settings, monkeypatch):
    limits = {"contingency": "2/hour", "export": "3/hour", "readings": "2/hour"}
    settings.RATE_LIMITS = limits
    for scope, rate in limits.items():
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)
    return limits


def test_the_api_limits_contingency_invocations(rates, staff_member):
    risks = [RiskFactory(status=Risk.Status.OPEN) for _ in range(3)]
    _, key = token_create(user=staff_member, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    answers = [
        client.post(
            f"/api/v1/risks/{risk.code}/invoke-contingency/", ENTRY, content_type="application/json"
        )
        for risk in risks
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert "throttled" in answers[2].json()["detail"].lower()
    assert Risk.objects.get(pk=risks[2].pk).status == Risk.Status.OPEN


def test_the_api_limits_csv_exports_but_not_json(rates, auditor, seed):
    _, key = token_create(user=auditor, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert [client.get("/api/v1/risks/").status_code for _ in range(5)] == [200] * 5
    codes = [client.get("/api/v1/risks/?format=csv").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_page_exports_share_one_limit_and_say_when_to_come_back(rates, client, board_member, seed):
    client.force_login(board_member)
    paths = ["/risks/export.csv", "/risks/export.xlsx", "/risks/export.csv", "/risks/export.xlsx"]
    answers = [client.get(path) for path in paths]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert "Too many exports" in answers[3].content.decode()
    assert int(answers[3]["Retry-After"]) > 0


def test_the_admin_limits_invoking_a_contingency(rates, staff_member):
    risks = [RiskFactory(status=Risk.Status.OPEN) for _ in range(3)]
    client = Client()
    client.force_login(staff_member)
    codes = [
        client.post(reverse("admin:risks_risk_invoke_contingency", args=(r.pk,)), ENTRY).status_code
        for r in risks
    ]
    assert codes == [302, 302, 429]
    assert Risk.objects.get(pk=risks[2].pk).status == Risk.Status.OPEN


def test_the_api_limits_recording_readings_but_not_reading_them(rates, staff_member):
    metric = MetricFactory()
    _, key = token_create(user=staff_member, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    url = f"/api/v1/metrics/{metric.pk}/readings/"
    answers = [
        client.post(
            url,
            {"observed_on": f"2027-0{month}-01", "value": month, "source": "INEGI"},
            content_type="application/json",
        ).status_code
        for month in (1, 2, 3)
    ]
    assert answers == [201, 201, 429]
    assert metric.readings.count() == 2
    assert {client.get(url).status_code for _ in range(4)} == {200}


def test_the_rates_are_settings(settings):
    assert set(settings.RATE_LIMITS) == {"contingency", "export", "readings"}
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["contingency"] == settings.RATE_LIMITS["contingency"]
    assert rates["export"] == settings.RATE_LIMITS["export"]
