"""A board review's meeting lies within or after its quarter, never before it begins."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError

from risks.models import BoardReview
from risks.services import review_create, review_update

pytestmark = pytest.mark.django_db


def test_a_meeting_before_its_quarter_is_refused(board_member):
    with pytest.raises(ValidationError) as refused:
        review_create(
            user=board_member,
            quarter="2027-Q1",
            meeting_date=datetime.date(2026, 6, 1),
            attendees="Chair (ONDCP)",
        )
    assert "meeting_date" in refused.value.message_dict
    assert "1 Jan 2027" in refused.value.message_dict["meeting_date"][0]
    assert not BoardReview.objects.exists()


@pytest.mark.parametrize(
    "meeting", [datetime.date(2027, 4, 1), datetime.date(2027, 6, 30), datetime.date(2027, 9, 2)]
)
def test_a_meeting_within_or_after_its_quarter_is_accepted(board_member, meeting):
    review = review_create(
        user=board_member, quarter="2027-Q2", meeting_date=meeting, attendees="Chair"
    )
    assert review.meeting_date == meeting


def test_moving_a_draft_before_its_quarter_is_refused(board_member):
    review = review_create(
        user=board_member,
        quarter="2027-Q3",
        meeting_date=datetime.date(2027, 9, 15),
        attendees="Chair",
    )
    with pytest.raises(ValidationError):
        review_update(review=review, user=board_member, meeting_date=datetime.date(2027, 6, 30))
    review.refresh_from_db()
    assert review.meeting_date == datetime.date(2027, 9, 15)


def test_the_form_shows_the_error_beside_the_meeting_date(client, board_member):
    client.force_login(board_member)
    response = client.post(
        "/reviews/",
        {"quarter": "2027-Q1", "meeting_date": "2026-06-01", "attendees": "Chair (ONDCP)"},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["form"].errors["meeting_date"]
    assert not BoardReview.objects.exists()
