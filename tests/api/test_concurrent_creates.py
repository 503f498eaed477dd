"""Ten identical creates at the same moment: one is saved, every other one answers 4xx naming
what clashed, and none answers 500. Only PostgreSQL runs writers truly in parallel (SQLite
serialises them with a file lock), so these run there."""

from __future__ import annotations

import threading
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client

from accounts.services import token_create
from risks.models import BoardReview, Indicator, Risk
from roadmap.models import MetricReading
from tests.factories import AgencyFactory, MetricFactory, RiskFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs parallel writers (PostgreSQL)"
    ),
]

PARALLEL = 10


def _in_parallel(send) -> list:
    """Run `send()` in PARALLEL threads released together; each thread has its own database
    connection (Django's connections are per thread)."""
    start = threading.Barrier(PARALLEL)
    answers: list = [None] * PARALLEL

    def worker(i: int) -> None:
        try:
            start.wait()
            answers[i] = send()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _api_post(user, path: str, body: dict):
    _, key = token_create(user=user, name="parallel")

    def send():
        client = Client(raise_request_exception=False, headers={"Authorization": f"Token {key}"})
        return client.post(path, body, content_type="application/json")

    return send


def _one_saved_rest_refused(answers, field: str) -> None:
    codes = sorted(answer.status_code for answer in answers)
    assert codes.count(HTTPStatus.CREATED) + codes.count(HTTPStatus.FOUND) == 1, codes
    refused = [a for a in answers if a.status_code not in (HTTPStatus.CREATED, HTTPStatus.FOUND)]
    assert all(400 <= a.status_code < 500 for a in refused), codes
    for answer in refused:
        assert field.lower() in answer.content.decode().lower(), answer.content[:300]


def test_ten_identical_risks(staff_member):
    AgencyFactory(code="OMB")
    body = {
        "code": "R9",
        "title": "A risk",
        "statement": "Cause, event, consequence.",
        "category": "financial",
        "owner": "Budget lead",
        "owner_agency": "OMB",
        "likelihood": 2,
        "impact": 4,
        "target_likelihood": 1,
        "target_impact": 3,
        "mitigation_strategy": "Multi-year funds.",
        "contingency_plan": "Reprogramme.",
        "rationale": "Raised by OMB.",
    }
    answers = _in_parallel(_api_post(staff_member, "/api/v1/risks/", body))
    _one_saved_rest_refused(answers, "code")
    assert Risk.objects.filter(code="R9").count() == 1
    assert Risk.objects.get(code="R9").assessments.count() == 1


def test_ten_identical_metric_readings(staff_member):
    metric = MetricFactory()
    body = {"observed_on": "2027-06-30", "value": "12.5", "source": "INEGI"}
    answers = _in_parallel(_api_post(staff_member, f"/api/v1/metrics/{metric.pk}/readings/", body))
    _one_saved_rest_refused(answers, "already exists")
    assert MetricReading.objects.filter(metric=metric).count() == 1


def test_ten_identical_indicators(staff_member):
    RiskFactory(code="R3")
    metric = MetricFactory()
    body = {"risk": "R3", "metric": metric.pk, "comparison": "above", "threshold": "30000.00"}
    answers = _in_parallel(_api_post(staff_member, "/api/v1/indicators/", body))
    _one_saved_rest_refused(answers, "risk, metric, comparison")
    assert Indicator.objects.count() == 1


def test_ten_identical_review_quarters(board_member):
    def send():
        client = Client(raise_request_exception=False)
        client.force_login(board_member)
        return client.post(
            "/reviews/",
            {"quarter": "2027-Q1", "meeting_date": "2027-03-31", "attendees": "Chair"},
        )

    answers = _in_parallel(send)
    _one_saved_rest_refused(answers, "Quarter already exists")
    assert BoardReview.objects.count() == 1
