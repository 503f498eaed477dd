"""The heatmap, the register list and a risk's page, as the board sees them."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from risks.selectors import rating_scale
from risks.services import review_create, review_finalise, risk_accept, risk_assess
from roadmap.services import metric_reading_record
from tests.factories import (
    AssessmentFactory,
    IndicatorFactory,
    MitigationActionFactory,
    PhaseFactory,
    RiskFactory,
    TriggerEntryFactory,
)

pytestmark = pytest.mark.django_db

WAS_3_BY_3 = "Medium/Medium (3\N{MULTIPLICATION SIGN}3)"

PAGES = ["/", "/heatmap/", "/risks/", "/risks/T1/"]


@pytest.fixture
def board_client(client, board_member):
    client.force_login(board_member)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_login(client, path):
    RiskFactory(code="T1")
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_outsider_is_refused(client, outsider, path):
    RiskFactory(code="T1")
    client.force_login(outsider)
    assert client.get(path).status_code == HTTPStatus.FORBIDDEN


def test_heatmap_places_each_risk_and_labels_cells_in_text(board_client):
    RiskFactory(code="T1", likelihood=5, impact=5)
    RiskFactory(code="T2", likelihood=1, impact=2)

    response = board_client.get("/heatmap/")

    assert response.status_code == HTTPStatus.OK
    rows = response.context["grid"].rows
    assert rows[0][4].risks == ["T1"]  # top row is likelihood 5, last column impact 5
    assert rows[4][1].risks == ["T2"]
    html = response.content.decode()
    assert 'href="/risks/T1/"' in html
    assert "Critical · 25" in html  # band named in text, never colour alone
    assert "Risk appetite" in html
    assert 'href="/risks/"' in html  # the register list is one click away


def test_heatmap_filters_by_phase_and_basis(board_client):
    phase = PhaseFactory(number=2)
    RiskFactory(code="T1", likelihood=5, impact=5, target_likelihood=2, target_impact=2)
    RiskFactory(
        code="T2", likelihood=4, impact=4, target_likelihood=1, target_impact=1, phases=[phase]
    )

    grid = board_client.get("/heatmap/?phase=2").context["grid"]
    assert [c.risks for c in grid.cells if c.count] == [["T2"]]
    grid = board_client.get("/heatmap/?basis=target").context["grid"]
    assert grid.rows[3][1].risks == ["T1"]


def test_heatmap_marks_overdue_and_low_confidence(board_client):
    import datetime

    risk = RiskFactory(code="T1", next_review_due=datetime.date(2020, 1, 1))
    risk.confidence = "low"
    risk.save()
    html = board_client.get("/heatmap/").content.decode()
    assert "review overdue" in html
    assert "low confidence" in html


def test_heatmap_bad_filter_is_400_with_a_message(board_client):
    response = board_client.get("/heatmap/?basis=nonsense")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Select a valid choice" in response.content.decode()


def _queries(client, path) -> int:
    rating_scale()  # read once a process under its own version: not part of a page's growth
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == HTTPStatus.OK
    return len(queries)


def test_heatmap_page_queries_do_not_grow(board_client):
    RiskFactory.create_batch(3)
    few = _queries(board_client, "/heatmap/")
    RiskFactory.create_batch(40)
    assert _queries(board_client, "/heatmap/") == few


def test_register_list_queries_do_not_grow(board_client):
    RiskFactory.create_batch(3)
    few = _queries(board_client, "/risks/")
    RiskFactory.create_batch(40)
    assert _queries(board_client, "/risks/") == few


def test_risk_page_shows_everything_in_constant_queries(board_client):
    risk = RiskFactory(code="T1")
    MitigationActionFactory(risk=risk, title="Build the coalition")
    few = _queries(board_client, "/risks/T1/")
    for _ in range(10):
        AssessmentFactory(risk=risk, rationale="Reviewed again.")
        MitigationActionFactory(risk=risk)
    assert _queries(board_client, "/risks/T1/") == few
    html = board_client.get("/risks/T1/").content.decode()
    assert "Build the coalition" in html
    assert "Reviewed again." in html
    assert risk.contingency_plan in html


def test_unknown_risk_is_404(board_client):
    assert board_client.get("/risks/R404/").status_code == HTTPStatus.NOT_FOUND


# --- Movement since the latest finalised review, the nav, the risk page's board sections ------


def _final_review(user, quarter: str = "2027-Q1"):
    review = review_create(
        user=user, quarter=quarter, meeting_date=datetime.date(2027, 3, 20), attendees="Chair"
    )
    return review_finalise(review=review, user=user)


@pytest.mark.parametrize("persona", ["board_member", "staff_member", "auditor"])
@pytest.mark.parametrize("path", PAGES)
def test_groups_may_read_the_board_pages(client, request, persona, path):
    RiskFactory(code="T1")
    client.force_login(request.getfixturevalue(persona))
    assert client.get(path).status_code == HTTPStatus.OK


def test_nav_links_every_board_page(board_client):
    html = board_client.get("/heatmap/").content.decode()
    for href in ('href="/"', 'href="/heatmap/" aria-current="page"', 'href="/risks/"'):
        assert href in html
    assert 'href="/reviews/"' in html


def test_heatmap_shows_movement_since_the_latest_final_review(
    board_client, board_member, staff_member
):
    moved = RiskFactory(code="T1", likelihood=3, impact=3)
    RiskFactory(code="T2", likelihood=1, impact=1)
    _final_review(board_member)
    risk_assess(risk=moved, likelihood=4, impact=5, rationale="Worse.", user=staff_member)
    RiskFactory(code="T3", likelihood=2, impact=2)

    response = board_client.get("/heatmap/")

    movement = response.context["movement"]
    assert [(m.code, m.came_from, m.direction) for m in movement.moves] == [
        ("T1", WAS_3_BY_3, "up")
    ]
    assert movement.new_codes == ["T3"]
    html = response.content.decode()
    assert f"← from {WAS_3_BY_3}" in html
    assert "new since 2027-Q1" in html
    assert 'data-departed="T1"' in html  # the cell it left says so too
    target = response.context["grid"].rows[1][4]  # likelihood 4, impact 5
    assert target.entries[0].came_from == WAS_3_BY_3


def test_heatmap_without_a_final_review_marks_nothing(board_client, board_member):
    RiskFactory(code="T1")
    review_create(
        user=board_member, quarter="2027-Q1", meeting_date=datetime.date(2027, 3, 1), attendees="A"
    )
    response = board_client.get("/heatmap/")
    assert response.context["movement"].review is None
    assert "← from" not in response.content.decode()


def test_heatmap_movement_queries_do_not_grow(board_client, board_member, staff_member):
    risks = RiskFactory.create_batch(3)
    _final_review(board_member)
    risk_assess(risk=risks[0], likelihood=5, impact=5, rationale="Worse.", user=staff_member)
    few = _queries(board_client, "/heatmap/")
    for risk in RiskFactory.create_batch(30):
        risk_assess(risk=risk, likelihood=1, impact=4, rationale="Moved.", user=staff_member)
    assert _queries(board_client, "/heatmap/") == few


def test_risk_page_shows_trigger_log_breaches_acceptances_and_snapshots(
    board_client, board_member, staff_member
):
    risk = RiskFactory(code="T1", response="accept")
    indicator = IndicatorFactory(risk=risk, threshold=100)
    metric_reading_record(
        metric=indicator.metric,
        observed_on=datetime.date(2026, 6, 1),
        value=150,
        source="S",
        user=staff_member,
    )
    TriggerEntryFactory(risk=risk, recorded_by=staff_member, reason="Threshold crossed badly.")
    review = review_create(
        user=board_member, quarter="2027-Q1", meeting_date=datetime.date(2027, 3, 1), attendees="A"
    )
    risk_accept(
        review=review,
        risk=risk,
        user=board_member,
        rationale="Bearable.",
        expires_on=datetime.date(2031, 1, 1),
    )
    review_finalise(review=review, user=board_member)
    metric_reading_record(
        metric=indicator.metric,
        observed_on=datetime.date(2026, 7, 1),
        value=170,
        source="S",
        user=staff_member,
    )

    few = _queries(board_client, "/risks/T1/")
    html = board_client.get("/risks/T1/").content.decode()

    assert "Threshold crossed badly." in html and "Contingency invoked" in html
    assert "flagged for trigger review" in html and "170" in html
    assert "Bearable." in html
    assert 'href="/reviews/2027-Q1/"' in html
    for _ in range(5):
        TriggerEntryFactory(risk=risk, recorded_by=staff_member, kind="update", reason="Progress.")
    assert _queries(board_client, "/risks/T1/") == few


def test_heatmap_as_of_compares_with_the_review_final_by_then(board_client, board_member):
    RiskFactory(code="T1")
    _final_review(board_member)
    today = timezone.localdate()
    assert board_client.get("/heatmap/").context["movement"].review.quarter == "2027-Q1"
    past = board_client.get(f"/heatmap/?as_of={today - datetime.timedelta(days=1)}")
    assert past.context["movement"].review is None
