"""The board's dashboard at /: what needs its attention, in a fixed number of queries."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from risks.models import Risk
from risks.selectors import MetricProgress, dashboard
from risks.services import review_create, review_finalise, risk_accept, risk_assess
from roadmap.models import Metric
from roadmap.services import metric_reading_record
from tests.factories import (
    IndicatorFactory,
    MetricFactory,
    MetricTargetFactory,
    RiskFactory,
    TriggerEntryFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def board_client(client, board_member):
    client.force_login(board_member)
    return client


def test_anonymous_goes_to_login_and_outsiders_are_refused(client, outsider):
    assert client.get("/")["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    assert client.get("/").status_code == HTTPStatus.FORBIDDEN


def test_seed_above_appetite_overdue_and_top_risks(board_client, seed):
    response = board_client.get("/")

    assert response.status_code == HTTPStatus.OK
    board = response.context["board"]
    assert [r.code for r in board.above_appetite] == ["R1", "R4", "R3"]
    assert [r.code for r in board.top_risks] == ["R1", "R4", "R3", "R2", "R5"]
    # The seed's next review dates are in early 2026; every open risk is overdue since.
    assert {r.code for r in board.overdue} == {"R1", "R2", "R3", "R4", "R5"}
    assert board.overdue[0].next_review_due == datetime.date(2026, 2, 27)
    html = response.content.decode()
    for code in ("R1", "R2", "R3", "R4", "R5"):
        assert f'href="/risks/{code}/"' in html


def test_seed_metrics_against_their_next_target(board_client, seed, staff_member):
    homicides = Metric.objects.get(name="Drug-related homicides in Mexico")
    metric_reading_record(
        metric=homicides,
        observed_on=datetime.date(2026, 6, 30),
        value=29500,
        source="INEGI",
        user=staff_member,
    )
    board = dashboard(today=datetime.date(2026, 11, 29))

    progress = {p.metric.name: p for p in board.metrics}
    row = progress["Drug-related homicides in Mexico"]
    assert (row.target.year, row.target_calendar_year, row.reading_value) == (3, 2028, 29500)
    assert row.on_target is False  # 29,500 is above the Year 3 target of 28,000
    assert progress["Global coca cultivation"].reading_value is None
    assert "no reading yet" in board_client.get("/").content.decode()


def test_next_target_is_the_first_not_yet_passed():
    metric = MetricFactory.build(direction=Metric.Direction.INCREASE)
    assert (
        MetricProgress(metric=metric, target=None, reading_value=5, reading_on=None).on_target
        is None
    )
    target = MetricTargetFactory.build(metric=metric, year=5, value_low=30, value_high=30)
    met = MetricProgress(metric=metric, target=target, reading_value=31, reading_on=None)
    assert met.on_target is True and met.target_calendar_year == 2030
    metric = MetricFactory(name="Signatories")
    for year in (3, 5, 10):
        MetricTargetFactory(metric=metric, year=year, target=str(year), value_low=year)
    years = {
        today.year: next(p for p in dashboard(today=today).metrics if p.metric == metric).target
        for today in (
            datetime.date(2028, 12, 31),
            datetime.date(2029, 1, 1),
            datetime.date(2036, 1, 1),
        )
    }
    assert (years[2028].year, years[2029].year, years[2036]) == (3, 5, None)


def test_breaches_and_active_contingencies(board_client, staff_member):
    flagged = RiskFactory(code="T1")
    indicator = IndicatorFactory(risk=flagged, threshold=100)
    metric_reading_record(
        metric=indicator.metric,
        observed_on=timezone.localdate(),
        value=120,
        source="S",
        user=staff_member,
    )
    invoked = RiskFactory(code="T2")
    TriggerEntryFactory(risk=invoked, recorded_by=staff_member, reason="The vote failed.")

    board = board_client.get("/").context["board"]

    assert [b.indicator.risk.code for b in board.breaches] == ["T1"]
    assert [r.code for r in board.contingencies] == ["T2"]
    assert board.contingencies[0].trigger_reason == "The vote failed."
    html = board_client.get("/").content.decode()
    assert "The vote failed." in html and 'href="/risks/T1/"' in html


def test_expired_acceptance_needs_the_boards_decision(board_member, staff_member):
    today = timezone.localdate()
    review = review_create(
        user=board_member,
        quarter="2020-Q1",
        meeting_date=today - datetime.timedelta(days=200),
        attendees="A",
    )
    expired = RiskFactory(code="T1", response=Risk.Response.ACCEPT)
    soon = RiskFactory(code="T2", response=Risk.Response.ACCEPT)
    later = RiskFactory(code="T3", response=Risk.Response.ACCEPT)
    for risk, days in ((expired, 1), (soon, 20), (later, 90)):
        risk_accept(
            review=review,
            risk=risk,
            user=board_member,
            rationale="Bearable.",
            expires_on=today + datetime.timedelta(days=days),
        )

    board = dashboard(today=today + datetime.timedelta(days=2))

    assert [a.risk.code for a in board.acceptances_expired] == ["T1"]
    assert [a.risk.code for a in board.acceptances_expiring] == ["T2"]
    assert board.needs_decision


def test_latest_rating_changes_show_old_and_new(staff_member):
    risk = RiskFactory(code="T1", likelihood=3, impact=3)
    risk_assess(risk=risk, likelihood=4, impact=5, rationale="Worse.", user=staff_member)

    change = dashboard().rating_changes[0]

    assert change.assessment.risk.code == "T1"
    assert (change.old_likelihood, change.old_impact, change.assessment.score) == (3, 3, 20)
    assert change.moved


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == HTTPStatus.OK
    return len(queries)


def _busy_register(n: int, *, board_member, staff_member, review) -> None:
    for risk in RiskFactory.create_batch(
        n, response=Risk.Response.ACCEPT, next_review_due=datetime.date(2026, 1, 1)
    ):
        risk_assess(risk=risk, likelihood=5, impact=4, rationale="Worse.", user=staff_member)
        indicator = IndicatorFactory(risk=risk, threshold=1)
        metric_reading_record(
            metric=indicator.metric,
            observed_on=timezone.localdate(),
            value=2,
            source="S",
            user=staff_member,
        )
        risk_accept(
            review=review,
            risk=risk,
            user=board_member,
            rationale="Fine.",
            expires_on=timezone.localdate() + datetime.timedelta(days=10),
        )
    for risk in RiskFactory.create_batch(n):
        TriggerEntryFactory(risk=risk, recorded_by=staff_member)


def test_queries_do_not_grow_with_the_register(board_client, board_member, staff_member):
    review = review_create(
        user=board_member, quarter="2020-Q1", meeting_date=timezone.localdate(), attendees="A"
    )
    _busy_register(3, board_member=board_member, staff_member=staff_member, review=review)
    review_finalise(review=review, user=board_member)
    few = _queries(board_client)
    second = review_create(
        user=board_member, quarter="2020-Q2", meeting_date=timezone.localdate(), attendees="A"
    )
    _busy_register(30, board_member=board_member, staff_member=staff_member, review=second)
    assert _queries(board_client) == few
    assert len(board_client.get("/").context["board"].acceptances_expiring) == 33
