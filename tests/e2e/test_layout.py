"""The U.S. Web Design System look at a laptop's 1366 px and a phone's 390 px: every board page
fits the width (no sideways scroll), axe-core finds nothing, and the screenshots are kept in
test-artifacts/. The admin (Django's own) fits 1366 px too."""

from __future__ import annotations

import datetime

import pytest

from risks.models import Indicator, Risk
from risks.services import review_create, review_finalise, risk_assess
from roadmap.services import metric_reading_record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1366, "phone": 390}
PAGES = {
    "dashboard": "/",
    "heatmap": "/heatmap/",
    "register": "/risks/",
    "risk": "/risks/R3/",
    "review": "/reviews/2027-Q1/",
    "reviews": "/reviews/",
}


@pytest.fixture
def board_with_a_review_and_a_breach(seed, board_member, staff_member):
    review = review_create(
        user=board_member,
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 20),
        attendees="Chair (ONDCP)\nUnder Secretary (STATE)",
        decisions="R1 stays above appetite; ask for a mitigation plan.",
    )
    review_finalise(review=review, user=board_member)
    risk_assess(
        risk=Risk.objects.get(code="R2"),
        likelihood=4,
        impact=5,
        rationale="The prohibitionist bloc is organising.",
        user=staff_member,
    )
    indicator = Indicator.objects.get(risk__code="R3")
    metric_reading_record(
        metric=indicator.metric,
        observed_on=datetime.date(2026, 12, 31),
        value=31500,
        source="INEGI",
        user=staff_member,
    )


def _sideways_scroll(page) -> int:
    """How far the page scrolls sideways (0 when it fits); names the widest elements if not."""
    excess = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if excess > 0:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
                .filter(e => !e.closest('.table-scroll') || e.matches('.table-scroll'))
                .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' +
                    Math.round(e.getBoundingClientRect().right))"""
        )
        print("Too wide:", wide)
    return excess


@pytest.mark.parametrize("device", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_board_pages_fit_and_pass_axe(
    sign_in,
    board_member,
    board_with_a_review_and_a_breach,
    live_server,
    page,
    axe,
    screenshot,
    name,
    device,
):
    page.set_viewport_size({"width": WIDTHS[device], "height": 900})
    sign_in(board_member)
    page.goto(f"{live_server.url}{PAGES[name]}")
    assert page.locator("header.usa-header").count() == 1
    screenshot(f"layout-{name}-{WIDTHS[device]}")
    assert _sideways_scroll(page) <= 0
    assert axe() == []


@pytest.mark.parametrize("device", WIDTHS)
def test_sign_in_page_fits_and_passes_axe(live_server, page, axe, screenshot, device):
    page.set_viewport_size({"width": WIDTHS[device], "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    screenshot(f"layout-sign-in-{WIDTHS[device]}")
    assert _sideways_scroll(page) <= 0
    assert axe() == []


def test_phone_menu_opens_and_reaches_the_register(sign_in, board_member, seed, live_server, page):
    page.set_viewport_size({"width": 390, "height": 900})
    sign_in(board_member)
    assert not page.locator("nav >> text=Register").is_visible()
    page.click("button.usa-menu-btn")
    page.click("nav >> text=Register")
    page.wait_for_load_state()
    assert page.url.endswith("/risks/")


def test_heatmap_marks_breaches_names_codes_and_keeps_empty_cells_quiet(
    sign_in, board_member, board_with_a_review_and_a_breach, live_server, page
):
    sign_in(board_member)
    page.goto(f"{live_server.url}/heatmap/")
    r3 = page.locator("li[data-code='R3']")
    assert "indicator breach" in r3.inner_text()
    link = r3.locator("a")
    assert "Escalation of Drug Violence" in link.inner_text()
    assert link.get_attribute("title").startswith("Escalation of Drug Violence")
    grid = page.locator("table.heatmap").inner_text()
    assert "0 risks" not in grid
    empty = page.locator("td[data-likelihood='1'][data-impact='1']").inner_text().strip()
    assert empty == "Low · 1"


def test_finalising_without_the_tick_focuses_the_box_with_its_error(
    sign_in, board_member, seed, live_server, page
):
    review_create(
        user=board_member,
        quarter="2027-Q2",
        meeting_date=datetime.date(2027, 6, 1),
        attendees="Chair (ONDCP)",
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(board_member)
    page.goto(f"{live_server.url}/reviews/2027-Q2/")
    page.click("text=Finalise review 2027-Q2")
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "id_confirm"
    error = page.locator("#id_confirm_error")
    assert "Tick the box" in error.inner_text()
    assert error.get_attribute("role") == "alert"
    box = error.bounding_box()
    assert 0 <= box["y"] <= 900  # in view, beside the box, not 2,000 px below
    summary = page.locator(".error-summary")
    assert "Tick the box" in summary.inner_text()
    assert summary.locator("a[href='#id_confirm']").count() == 1


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("admin-risks", "/admin/risks/risk/"),
        ("admin-risk-r4", "risk-r4"),
        ("admin-breaches", "/admin/risks/indicatorbreach/"),
    ],
)
def test_admin_fits_1366(
    sign_in,
    staff_member,
    board_with_a_review_and_a_breach,
    live_server,
    page,
    screenshot,
    name,
    path,
):
    if path == "risk-r4":
        path = f"/admin/risks/risk/{Risk.objects.get(code='R4').pk}/change/"
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(staff_member)
    page.goto(f"{live_server.url}{path}")
    assert page.locator("#content").count() == 1
    screenshot(f"layout-{name}-1366")
    assert _sideways_scroll(page) <= 0
    boxes = "#changelist .results, #changelist table, .inline-group .tabular, .inline-group table"
    clipped = page.evaluate(
        """(boxes) => [...document.querySelectorAll(boxes)]
            .filter(e => e.scrollWidth > e.clientWidth + 1
                || e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .map(e => e.className || e.tagName)""",
        boxes,
    )
    assert clipped == []
