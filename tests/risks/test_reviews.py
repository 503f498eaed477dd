"""Quarterly board reviews: who may see and record them, finalising, acceptances."""

from __future__ import annotations

import datetime
import threading
import time
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.versions import StateConflict
from risks import services
from risks.models import BoardReview, ReviewSnapshot, Risk, RiskAcceptance
from risks.selectors import rating_scale
from risks.services import (
    review_create,
    review_finalise,
    review_update,
    risk_accept,
    risk_assess,
    risk_close,
)
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db

WAS_3_BY_3 = "Medium/Medium (3\N{MULTIPLICATION SIGN}3)"

MEETING = {"meeting_date": "2027-03-20", "attendees": "Chair (ONDCP)\nMember (STATE)"}


@pytest.fixture
def draft(board_member):
    return review_create(
        user=board_member,
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 20),
        attendees="Chair (ONDCP)",
    )


def _as(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/reviews/", "/reviews/2027-Q1/"])
def test_anonymous_is_sent_to_login(client, draft, path):
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/reviews/", "/reviews/2027-Q1/"])
def test_outsider_is_refused(client, outsider, draft, path):
    assert _as(client, outsider).get(path).status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("persona", ["board_member", "staff_member", "auditor"])
@pytest.mark.parametrize("path", ["/reviews/", "/reviews/2027-Q1/"])
def test_board_staff_and_auditors_may_read(client, request, draft, persona, path):
    response = _as(client, request.getfixturevalue(persona)).get(path)
    assert response.status_code == HTTPStatus.OK
    assert "2027-Q1" in response.content.decode()


def test_only_the_board_sees_the_forms(client, board_member, staff_member, draft):
    assert "New review" in _as(client, board_member).get("/reviews/").content.decode()
    assert "Finalise" in client.get("/reviews/2027-Q1/").content.decode()
    client.force_login(staff_member)
    assert "New review" not in client.get("/reviews/").content.decode()
    assert "Finalise review" not in client.get("/reviews/2027-Q1/").content.decode()


@pytest.mark.parametrize("persona", ["staff_member", "auditor", "outsider"])
def test_only_the_board_may_write(client, request, draft, persona):
    risk = RiskFactory(code="T1", response=Risk.Response.ACCEPT)
    client = _as(client, request.getfixturevalue(persona))
    posts = [
        ("/reviews/", {"quarter": "2027-Q2", **MEETING}),
        ("/reviews/2027-Q1/", MEETING),
        ("/reviews/2027-Q1/finalise/", {"confirm": "on"}),
        (
            "/reviews/2027-Q1/accept/T1/",
            {"accept-T1-rationale": "Cheap.", "accept-T1-expires_on": "2030-01-01"},
        ),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == HTTPStatus.FORBIDDEN, path
    assert BoardReview.objects.count() == 1
    assert not ReviewSnapshot.objects.exists()
    assert not RiskAcceptance.objects.filter(risk=risk).exists()


def test_board_member_creates_a_draft(client, board_member):
    response = _as(client, board_member).post(
        "/reviews/", {"quarter": "2027-q1", "decisions": "Noted.", **MEETING}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/reviews/2027-Q1/"
    review = BoardReview.objects.get()
    assert (review.quarter, review.status, review.created_by) == ("2027-Q1", "draft", board_member)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quarter": "2027-Q5", **MEETING}, "quarter"),
        ({"quarter": "2027-Q1", "meeting_date": "soon", "attendees": "A"}, "meeting_date"),
        ({"quarter": "2027-Q1", "meeting_date": "2027-03-20", "attendees": ""}, "attendees"),
    ],
)
def test_bad_input_shows_field_errors_and_writes_nothing(client, board_member, data, field):
    response = _as(client, board_member).post("/reviews/", data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.context["form"].errors
    html = response.content.decode()
    # The error sits next to its control, is announced, and the control takes the focus.
    assert f'<span class="usa-error-message" id="id_{field}_error" role="alert">' in html
    assert f'aria-describedby="id_{field}_helptext id_{field}_error"' in html or (
        f'aria-describedby="id_{field}_error"' in html
    )
    assert html.count("autofocus") == 1
    assert 'class="usa-alert usa-alert--error error-summary"' in html
    assert not BoardReview.objects.exists()


def test_a_quarter_is_reviewed_once(client, board_member, draft):
    response = _as(client, board_member).post("/reviews/", {"quarter": "2027-Q1", **MEETING})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "already exists" in str(response.context["form"].errors["quarter"])
    assert BoardReview.objects.count() == 1


def test_finalise_snapshots_every_open_risk(client, board_member, draft):
    RiskFactory(code="T1", likelihood=5, impact=4, target_likelihood=3, target_impact=2)
    RiskFactory(code="T2", status=Risk.Status.MONITORING)
    closed = RiskFactory(code="T3")
    risk_close(risk=closed, reason="Overtaken by events.", user=board_member)

    response = _as(client, board_member).post("/reviews/2027-Q1/finalise/", {"confirm": "on"})

    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.is_final and draft.finalised_by == board_member and draft.finalised_at
    frozen = {s.risk.code: s for s in draft.snapshots.select_related("risk")}
    assert set(frozen) == {"T1", "T2"}
    t1 = frozen["T1"]
    assert (t1.likelihood, t1.impact, t1.score) == (5, 4, 20)
    assert (t1.target_likelihood, t1.target_impact, t1.status) == (3, 2, "open")
    assert frozen["T2"].status == "monitoring"
    assert t1.next_review_due == Risk.objects.get(code="T1").next_review_due


def test_finalise_needs_the_confirmation(client, board_member, draft):
    response = _as(client, board_member).post("/reviews/2027-Q1/finalise/", {})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    draft.refresh_from_db()
    assert not draft.is_final


def test_second_finalise_and_edits_are_refused_and_write_nothing(client, board_member, draft):
    RiskFactory(code="T1")
    review_finalise(review=draft, user=board_member)
    RiskFactory(code="T2")
    client = _as(client, board_member)

    again = client.post("/reviews/2027-Q1/finalise/", {"confirm": "on"})
    edit = client.post("/reviews/2027-Q1/", {**MEETING, "decisions": "Rewritten."})

    for response in (again, edit):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "final" in response.content.decode()
    assert list(draft.snapshots.values_list("risk__code", flat=True)) == ["T1"]
    assert BoardReview.objects.get().decisions == ""
    with pytest.raises(StateConflict):
        review_finalise(review=draft, user=board_member)
    with pytest.raises(StateConflict):
        review_update(review=draft, user=board_member, decisions="Rewritten.")


def test_board_member_edits_a_draft(client, board_member, draft):
    response = _as(client, board_member).post(
        "/reviews/2027-Q1/", {**MEETING, "decisions": "Accept R9."}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert BoardReview.objects.get().decisions == "Accept R9."


def test_board_records_an_acceptance_of_an_accept_risk(client, board_member, draft):
    RiskFactory(code="T1", response=Risk.Response.ACCEPT)
    client = _as(client, board_member)
    assert "Record acceptance of T1" in client.get("/reviews/2027-Q1/").content.decode()

    response = client.post(
        "/reviews/2027-Q1/accept/T1/",
        {"accept-T1-rationale": "Cheaper to bear.", "accept-T1-expires_on": "2030-01-01"},
    )

    assert response.status_code == HTTPStatus.FOUND
    acceptance = RiskAcceptance.objects.get()
    assert (acceptance.risk.code, acceptance.accepted_by) == ("T1", board_member)
    assert acceptance.accepted_on == draft.meeting_date
    assert "Cheaper to bear." in client.get("/reviews/2027-Q1/").content.decode()


def test_acceptance_refused_for_other_responses_and_bad_dates(client, board_member, draft):
    reduce = RiskFactory(code="T1", response=Risk.Response.REDUCE)
    with pytest.raises(ValidationError, match="not accept"):
        risk_accept(
            review=draft,
            risk=reduce,
            user=board_member,
            rationale="No.",
            expires_on=datetime.date(2030, 1, 1),
        )
    RiskFactory(code="T2", response=Risk.Response.ACCEPT)
    response = _as(client, board_member).post(
        "/reviews/2027-Q1/accept/T2/",
        {"accept-T2-rationale": "Fine.", "accept-T2-expires_on": "2020-01-01"},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "must be in the future" in response.content.decode()
    assert not RiskAcceptance.objects.exists()


def test_acceptance_service_refuses_non_board_users(staff_member, draft):
    risk = RiskFactory(code="T1", response=Risk.Response.ACCEPT)
    with pytest.raises(ValidationError, match="Only the Board"):
        risk_accept(
            review=draft,
            risk=risk,
            user=staff_member,
            rationale="Fine.",
            expires_on=timezone.localdate() + datetime.timedelta(days=90),
        )


def test_final_review_shows_its_grid_and_what_changed(client, board_member, staff_member):
    moving = RiskFactory(code="T1", likelihood=3, impact=3)
    RiskFactory(code="T2", likelihood=2, impact=2)
    first = review_create(
        user=board_member, quarter="2027-Q1", meeting_date=datetime.date(2027, 3, 1), attendees="A"
    )
    review_finalise(review=first, user=board_member)
    risk_assess(risk=moving, likelihood=4, impact=5, rationale="Worse.", user=staff_member)
    risk_close(risk=Risk.objects.get(code="T2"), reason="Gone.", user=staff_member)
    RiskFactory(code="T3")
    second = review_create(
        user=board_member, quarter="2027-Q2", meeting_date=datetime.date(2027, 6, 1), attendees="A"
    )
    review_finalise(review=second, user=board_member)

    first_page = _as(client, board_member).get("/reviews/2027-Q1/")
    assert first_page.context["grid"].rows[2][2].risks == ["T1"]  # still at 3 x 3
    changes = client.get("/reviews/2027-Q2/").context["changes"]
    assert [c.code for c in changes.rerated] == ["T1"]
    assert [c.code for c in changes.new] == ["T3"]
    assert [c.code for c in changes.left] == ["T2"]
    html = client.get("/reviews/2027-Q2/").content.decode()
    assert f"← from {WAS_3_BY_3}" in html


def _queries(client, path) -> int:
    rating_scale()  # read once a process under its own version: not part of a page's growth
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == HTTPStatus.OK
    return len(queries)


def _review(user, quarter: str, *, final: bool) -> BoardReview:
    review = review_create(
        user=user, quarter=quarter, meeting_date=datetime.date(2027, 12, 1), attendees="A"
    )
    return review_finalise(review=review, user=user) if final else review


def test_review_pages_queries_do_not_grow(client, board_member, staff_member):
    client = _as(client, board_member)
    RiskFactory.create_batch(3, response=Risk.Response.ACCEPT)
    _review(board_member, "2027-Q1", final=True)
    _review(board_member, "2027-Q2", final=True)
    _review(board_member, "2027-Q3", final=False)
    paths = ("/reviews/", "/reviews/2027-Q2/", "/reviews/2027-Q3/")
    few = [_queries(client, path) for path in paths]
    for risk in RiskFactory.create_batch(30, response=Risk.Response.ACCEPT):
        risk_assess(risk=risk, likelihood=5, impact=5, rationale="Worse.", user=staff_member)
    review_finalise(review=BoardReview.objects.get(quarter="2027-Q3"), user=board_member)
    _review(board_member, "2027-Q4", final=False)
    paths = ("/reviews/", "/reviews/2027-Q3/", "/reviews/2027-Q4/")
    assert [_queries(client, path) for path in paths] == few


@pytest.mark.django_db(transaction=True)
def test_simultaneous_finalisations_snapshot_once(monkeypatch, board_member):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers anyway")
    RiskFactory(code="T1")
    review = review_create(
        user=board_member, quarter="2027-Q1", meeting_date=datetime.date(2027, 3, 1), attendees="A"
    )
    locked = services._review_locked

    def slow_lock(review):
        # Hold the lock a moment, so the second finaliser really does wait for the first.
        row = locked(review)
        time.sleep(0.2)
        return row

    monkeypatch.setattr(services, "_review_locked", slow_lock)
    barrier, outcomes = threading.Barrier(2), []

    def finalise():
        try:
            barrier.wait()
            review_finalise(review=review, user=board_member)
            outcomes.append("final")
        except StateConflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=finalise) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["final", "refused"]
    assert ReviewSnapshot.objects.count() == 1
