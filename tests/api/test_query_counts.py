"""No N+1: every list costs the same number of queries for 5 rows as for 50."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from risks.models import BoardReview, ReviewSnapshot, RiskAcceptance
from risks.signals import register_changed
from roadmap.services import metric_reading_record
from tests.factories import (
    AgencyFactory,
    AssessmentFactory,
    IndicatorFactory,
    KeyActionFactory,
    MetricFactory,
    MetricReadingFactory,
    MetricTargetFactory,
    MitigationActionFactory,
    PhaseFactory,
    RiskFactory,
    TriggerEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FIXED_QUARTER = "1999-Q4"


@pytest.fixture
def fixed(auditor):
    """A metric whose readings and a review whose snapshot grow with the register."""
    user = UserFactory(username="bea.board", groups=["Board"])
    review = BoardReview.objects.create(
        quarter=FIXED_QUARTER,
        meeting_date=datetime.date(1999, 12, 1),
        attendees="Chair",
        created_by=user,
    )
    staff = UserFactory(username="sam.staff", groups=["Staff"])  # only Staff record entries
    return {
        "metric": MetricFactory(name="Fixed metric"),
        "review": review,
        "user": user,
        "staff": staff,
    }


def _grow(n: int, fixed: dict) -> None:
    phase = PhaseFactory(number=1)
    agencies = [AgencyFactory() for _ in range(2)]
    user = fixed["user"]
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
        # A changed risk (history with a diff), a trigger entry, a breach on an indicator.
        risk.title = f"{risk.title} (renamed)"
        risk.save()
        TriggerEntryFactory(risk=risk, recorded_by=fixed["staff"])
        IndicatorFactory(risk=risk, metric=metric, threshold=1)
        metric_reading_record(
            metric=metric, observed_on=timezone.localdate(), value=10, source="Count", user=user
        )
        metric_reading_record(
            metric=fixed["metric"],
            observed_on=timezone.localdate() - datetime.timedelta(days=risk.pk),
            value=risk.pk,
            source="Count",
            user=user,
        )
        review = BoardReview.objects.create(
            quarter=f"{2000 + BoardReview.objects.count()}-Q1",
            meeting_date=datetime.date(2030, 1, 1),
            attendees="Chair",
            created_by=user,
        )
        RiskAcceptance.objects.create(
            risk=risk,
            review=review,
            accepted_by=user,
            accepted_on=review.meeting_date,
            rationale="Within appetite.",
            expires_on=review.meeting_date + datetime.timedelta(days=90),
        )
        ReviewSnapshot.objects.create(
            review=fixed["review"],
            risk=risk,
            likelihood=3,
            impact=3,
            score=9,
            target_likelihood=2,
            target_impact=2,
            status=risk.status,
            confidence=risk.confidence,
        )


PATHS = [
    "/api/v1/risks/?page_size=100",
    "/api/v1/risks/?format=csv",
    "/api/v1/assessments/?page_size=200",
    "/api/v1/mitigations/?page_size=100",
    "/api/v1/key-actions/?page_size=100",
    "/api/v1/metrics/?page_size=100",
    "/api/v1/agencies/?page_size=100",
    "/api/v1/triggers/?page_size=200",
    "/api/v1/triggers/?format=csv",
    "/api/v1/indicators/?page_size=100",
    "/api/v1/indicators/?format=csv",
    "/api/v1/breaches/?page_size=100",
    "/api/v1/reviews/?page_size=100",
    "/api/v1/reviews/?format=csv",
    f"/api/v1/reviews/{FIXED_QUARTER}/snapshots/?page_size=100",
    "/api/v1/metrics/{metric}/readings/?page_size=100",
    "/api/v1/history/?page_size=200",
    "/api/v1/history/?format=csv",
    "/api/v1/history/?model=mitigation&page_size=200",
    "/api/v1/history/?model=key_action&page_size=200",
    "/api/v1/history/?model=metric&page_size=200",
    "/api/v1/history/?model=metric_reading&page_size=200",
    "/api/v1/history/?model=indicator&page_size=200",
    "/api/v1/history/?model=breach&page_size=200",
    "/api/v1/history/?model=review&page_size=200",
    "/api/v1/history/?model=acceptance&page_size=200&format=csv",
]


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, (path, body[:500])
    return len(queries)


def _rows(client, path: str) -> int:
    response = client.get(path)
    if response.streaming:
        return len(b"".join(response.streaming_content).splitlines()) - 1
    return len(response.json()["results"])


def test_query_count_does_not_grow_with_rows(client, auditor, fixed):
    # One test for every list: building 50 rows of everything once keeps the suite quick.
    client.force_login(auditor)
    paths = [path.format(metric=fixed["metric"].pk) for path in PATHS]
    _grow(5, fixed)
    client.get("/api/v1/risks/?page_size=1")  # the rating scale, read once a process
    before = {path: (_count(client, path), _rows(client, path)) for path in paths}
    _grow(45, fixed)
    after = {path: (_count(client, path), _rows(client, path)) for path in paths}

    grew = {
        path: (before[path][0], after[path][0])
        for path in paths
        if after[path][0] != before[path][0]
    }
    assert not grew, f"queries for 5 rows vs 50: {grew}"
    unchanged = [path for path in paths if after[path][1] <= before[path][1]]
    assert not unchanged, f"these lists did not grow, so prove nothing: {unchanged}"


def test_heatmap_query_count_does_not_grow_with_risks(client, auditor, fixed):
    client.force_login(auditor)
    _grow(5, fixed)
    client.get("/api/v1/risks/?page_size=1")  # the rating scale, read once a process
    small = _count(client, "/api/v1/heatmap/?phase=1")
    _grow(45, fixed)
    assert _count(client, "/api/v1/heatmap/?phase=1") == small
    assert _count(client, "/api/v1/heatmap/?as_of=2030-01-01") == _count(
        client, "/api/v1/heatmap/?as_of=2030-01-01&basis=target"
    )


# --- The floor (docs/benchmarks.md): with a token, once it has been seen, authentication and
# permissions cost no query; a read runs outside a transaction; a short list has no COUNT.


def _statements(queries) -> list[str]:
    # Inside the test's transaction a read takes a savepoint, which production does not.
    return [
        q["sql"][:80]
        for q in queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))
    ]


def _token_client(client, user, committed):
    from accounts.services import token_create

    with committed(execute=True):  # as in production: remembered only once committed
        _, key = token_create(user=user, name="floor")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    return client


def test_trivial_list_with_a_token_costs_at_most_three_queries(
    client, auditor, seed, django_capture_on_commit_callbacks
):
    client = _token_client(client, auditor, django_capture_on_commit_callbacks)
    assert client.get("/api/v1/phases/").status_code == 200  # the token is remembered
    register_changed(scale=False)  # the first read after a write: the answer is computed
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/phases/")
    assert response.status_code == 200 and response.json()["count"] == 3
    assert len(_statements(queries)) <= 3, _statements(queries)


def test_a_page_of_100_risks_costs_at_most_six_queries(
    client, auditor, fixed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _grow(5, fixed)
    client = _token_client(client, auditor, django_capture_on_commit_callbacks)
    assert client.get("/api/v1/risks/?page_size=100").status_code == 200
    register_changed(scale=False)  # the first read after a write: the page is computed again
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/risks/?page_size=100")
    assert response.status_code == 200 and response.json()["results"]
    assert len(_statements(queries)) <= 6, _statements(queries)
