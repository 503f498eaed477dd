"""GET /api/v1/reviews/: the board's quarterly reviews, read-only for every role."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

from risks.models import BoardReview, ReviewSnapshot, Risk, RiskAcceptance
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db(transaction=True)


def make_review(quarter: str, user, *, final: bool = False) -> BoardReview:
    """A review as the board's pages leave it; finalising freezes every open risk."""
    review = BoardReview.objects.create(
        quarter=quarter,
        meeting_date=datetime.date(int(quarter[:4]), 3, 31),
        attendees="Chair, ONDCP\nGAO observer",
        decisions="Keep R1 under watch.",
        created_by=user,
    )
    if final:
        for risk in Risk.objects.exclude(status=Risk.Status.CLOSED):
            ReviewSnapshot.objects.create(
                review=review,
                risk=risk,
                likelihood=risk.likelihood,
                impact=risk.impact,
                score=risk.score,
                target_likelihood=risk.target_likelihood,
                target_impact=risk.target_impact,
                status=risk.status,
                confidence=risk.confidence,
                next_review_due=risk.next_review_due,
            )
        review.status, review.finalised_by = BoardReview.Status.FINAL, user
        review.finalised_at = timezone.now()
        review.save()
    return review


@pytest.fixture
def reviews(board_member):
    RiskFactory(code="R1", likelihood=5, impact=5)
    accepted = RiskFactory(code="R2", likelihood=2, impact=2, response="accept")
    q1 = make_review("2027-Q1", board_member, final=True)
    RiskAcceptance.objects.create(
        risk=accepted,
        review=q1,
        accepted_by=board_member,
        accepted_on=q1.meeting_date,
        rationale="Within appetite.",
        expires_on=q1.meeting_date + datetime.timedelta(days=365),
    )
    make_review("2027-Q2", board_member)


def test_every_role_reads_reviews_newest_first(api, reviews, auditor, board_member, staff_member):
    for persona in (auditor, board_member, staff_member):
        response = api(persona).get("/api/v1/reviews/")
        assert response.status_code == HTTPStatus.OK, persona
        rows = response.json()["results"]
        assert [(r["quarter"], r["status"], r["snapshot_count"]) for r in rows] == [
            ("2027-Q2", "draft", 0),
            ("2027-Q1", "final", 2),
        ]
        assert rows[1]["acceptances"][0]["risk"] == "R2"
        assert rows[1]["finalised_by"] == "bea.board"


def test_a_review_by_quarter_with_its_snapshot(api, auditor, reviews):
    client = api(auditor)
    review = client.get("/api/v1/reviews/2027-Q1/").json()
    assert review["decisions"] == "Keep R1 under watch."
    assert review["links"]["snapshots"].endswith("/api/v1/reviews/2027-Q1/snapshots/")

    snapshots = client.get("/api/v1/reviews/2027-Q1/snapshots/").json()["results"]
    assert [(s["risk"], s["score"], s["rating"]) for s in snapshots] == [
        ("R1", 25, "Critical"),
        ("R2", 4, "Low"),
    ]
    assert snapshots[0]["likelihood"] == {"level": 5, "label": "High"}
    assert client.get("/api/v1/reviews/2027-Q2/snapshots/").json()["results"] == []


def test_filters_and_unknown_quarter(api, auditor, reviews):
    client = api(auditor)
    rows = client.get("/api/v1/reviews/?status=final").json()["results"]
    assert [r["quarter"] for r in rows] == ["2027-Q1"]
    assert client.get("/api/v1/reviews/?year=2026").json()["results"] == []
    assert client.get("/api/v1/reviews/?status=sealed").status_code == HTTPStatus.BAD_REQUEST
    assert client.get("/api/v1/reviews/2031-Q1/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/api/v1/reviews/2031-Q5/").status_code == HTTPStatus.NOT_FOUND


def test_read_only_through_the_api(api, board_member, reviews):
    client = api(board_member)
    assert client.post("/api/v1/reviews/", {"quarter": "2027-Q3"}).status_code == 405
    assert client.patch("/api/v1/reviews/2027-Q2/", {"decisions": "x"}).status_code == 405
    assert client.delete("/api/v1/reviews/2027-Q2/").status_code == 405
    assert BoardReview.objects.count() == 2


def test_outsider_403(api, outsider, reviews):
    assert api(outsider).get("/api/v1/reviews/").status_code == HTTPStatus.FORBIDDEN
