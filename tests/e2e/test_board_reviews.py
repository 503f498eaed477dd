"""A quarterly review in a real browser: record it, finalise it, see movement afterwards."""

from __future__ import annotations

import datetime

import pytest

from risks.models import Risk
from risks.services import review_create, review_finalise, risk_assess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_board_records_and_finalises_a_review_then_sees_movement(
    sign_in, board_member, staff_member, seed, live_server, screenshot
):
    page = sign_in(board_member)
    page.click("nav >> text=Reviews")
    page.fill("#id_quarter", "2027-Q1")
    page.fill("#id_meeting_date", "2027-03-20")
    page.fill("#id_attendees", "Chair (ONDCP)\nUnder Secretary (STATE)")
    page.fill("#id_decisions", "R1 stays above appetite; ask for a mitigation plan.")
    page.click("text=Create draft review")
    page.wait_for_load_state()
    assert page.url.endswith("/reviews/2027-Q1/")
    assert "Draft" in page.locator("h1").inner_text()

    page.click("label[for=id_confirm]")  # USWDS draws the box; the label ticks it
    page.click("text=Finalise review 2027-Q1")
    page.wait_for_load_state()
    assert "Final" in page.locator("h1").inner_text()
    assert "5 open risks frozen" in page.locator(".messages").inner_text()

    risk_assess(
        risk=Risk.objects.get(code="R2"),
        likelihood=4,
        impact=5,
        rationale="The prohibitionist bloc is organising.",
        user=staff_member,
    )

    page.goto(f"{live_server.url}/heatmap/")
    moved = page.locator("td[data-likelihood='4'][data-impact='5'] li[data-code='R2']")
    assert "← from Medium/Medium (3\N{MULTIPLICATION SIGN}3)" in moved.inner_text()
    assert "▲" in moved.inner_text()
    left = page.locator("td[data-likelihood='3'][data-impact='3'] [data-departed='R2']")
    assert "R2 was here at 2027-Q1" in left.inner_text()
    assert screenshot("heatmap-movement").stat().st_size > 0

    page.goto(f"{live_server.url}/reviews/2027-Q1/")
    old_cell = page.locator("td[data-likelihood='3'][data-impact='3']")
    assert "R2" in old_cell.inner_text()
    assert "R2" not in page.locator("td[data-likelihood='4'][data-impact='5']").inner_text()
    screenshot("review-final")

    page.click("nav >> text=Dashboard")
    assert "R2" in page.locator("#changes-heading + table").inner_text()
    screenshot("dashboard")


def _final_review(board_member):
    review = review_create(
        user=board_member,
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 20),
        attendees="Chair (ONDCP)",
    )
    return review_finalise(review=review, user=board_member)


@pytest.mark.parametrize("path", ["/", "/heatmap/", "/risks/R2/", "/reviews/", "/reviews/2027-Q1/"])
def test_no_accessibility_violations_with_a_final_review(
    sign_in, board_member, staff_member, seed, live_server, axe, path
):
    _final_review(board_member)
    risk_assess(
        risk=Risk.objects.get(code="R2"),
        likelihood=4,
        impact=5,
        rationale="Worse.",
        user=staff_member,
    )
    page = sign_in(board_member)
    page.goto(f"{live_server.url}{path}")
    assert axe() == []


def test_draft_review_page_with_its_forms_is_accessible(
    sign_in, board_member, seed, live_server, axe
):
    review_create(
        user=board_member, quarter="2027-Q2", meeting_date=datetime.date(2027, 6, 1), attendees="A"
    )
    Risk.objects.filter(code="R5").update(response=Risk.Response.ACCEPT)
    page = sign_in(board_member)
    page.goto(f"{live_server.url}/reviews/2027-Q2/")
    assert page.locator("text=Record acceptance of R5").count() == 1
    assert axe() == []
    page.goto(f"{live_server.url}/reviews/")
    page.click("text=Create draft review")  # empty: field errors, announced
    page.wait_for_load_state()
    assert page.locator("[role=alert]").count() >= 2
    assert axe() == []


@pytest.mark.parametrize(("path", "target"), [("/", "R1"), ("/reviews/", "2027-Q1")])
def test_keyboard_reaches_links(sign_in, board_member, seed, live_server, path, target):
    _final_review(board_member)
    page = sign_in(board_member)
    page.goto(f"{live_server.url}{path}")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == target:
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid"  # the focus is visible
            break
    else:
        pytest.fail(f"{target}'s link on {path} is not reachable with the keyboard")
