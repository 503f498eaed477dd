"""The board pack on paper: the dashboard and the heatmap each print on one page."""

from __future__ import annotations

import datetime
import re

import pytest

from risks.models import Risk
from risks.services import review_create, review_finalise, risk_assess
from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.mark.parametrize("moved", [False, True])
@pytest.mark.parametrize(("path", "name"), [("/", "dashboard"), ("/heatmap/", "heatmap")])
def test_prints_on_one_landscape_page(
    sign_in, board_member, staff_member, seed, live_server, path, name, moved
):
    if moved:  # with a finalised review and a re-rating, the heatmap lists the movement too
        review = review_create(
            user=board_member,
            quarter="2027-Q1",
            meeting_date=datetime.date(2027, 3, 1),
            attendees="A",
        )
        review_finalise(review=review, user=board_member)
        risk = Risk.objects.get(code="R2")
        risk_assess(risk=risk, likelihood=4, impact=5, rationale="Worse.", user=staff_member)
    page = sign_in(board_member)
    page.goto(f"{live_server.url}{path}")
    page.emulate_media(media="print")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(
        path=str(ARTIFACTS / f"{name}{'-moved' if moved else ''}.pdf"),
        prefer_css_page_size=True,
        print_background=True,
    )
    assert _pages(pdf) == 1
