"""No N+1: every list costs the same number of queries for 5 rows as for 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    AgencyFactory,
    AssessmentFactory,
    KeyActionFactory,
    MetricFactory,
    MetricReadingFactory,
    MetricTargetFactory,
    MitigationActionFactory,
    PhaseFactory,
    RiskFactory,
)

pytestmark = pytest.mark.django_db


def _grow(n: int) -> None:
    phase = PhaseFactory(number=1)
    agencies = [AgencyFactory() for _ in range(2)]
    for _ in range(n):
        action = KeyActionFactory(phase=phase, lead_agencies=agencies)
        risk = RiskFactory(phases=[phase])
        risk.supporting_agencies.set(agencies)
        risk.key_actions.set([action])
        AssessmentFactory(risk=risk)
        MitigationActionFactory(risk=risk, key_action=action)
        metric = MetricFactory()
        MetricTargetFactory(metric=metric)
        MetricReadingFactory(metric=metric)


PATHS = [
    "/api/v1/risks/?page_size=100",
    "/api/v1/risks/?format=csv",
    "/api/v1/assessments/?page_size=200",
    "/api/v1/mitigations/?page_size=100",
    "/api/v1/key-actions/?page_size=100",
    "/api/v1/metrics/?page_size=100",
    "/api/v1/agencies/?page_size=100",
]


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(queries)


@pytest.mark.parametrize("path", PATHS)
def test_query_count_does_not_grow_with_rows(client, auditor, path):
    client.force_login(auditor)
    _grow(5)
    small = _count(client, path)
    _grow(45)
    assert _count(client, path) == small


def test_heatmap_query_count_does_not_grow_with_risks(client, auditor):
    client.force_login(auditor)
    _grow(5)
    small = _count(client, "/api/v1/heatmap/?phase=1")
    _grow(45)
    assert _count(client, "/api/v1/heatmap/?phase=1") == small
    assert _count(client, "/api/v1/heatmap/?as_of=2030-01-01") == _count(
        client, "/api/v1/heatmap/?as_of=2030-01-01&basis=target"
    )
