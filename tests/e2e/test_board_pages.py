"""The board's pages in a real browser: sign in, heatmap, filters, a risk page, axe-core."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_read_the_heatmap(sign_in, board_member, seed, live_server, screenshot):
    page = sign_in(board_member)
    page.goto(f"{live_server.url}/heatmap/")

    cell = page.locator("td[data-likelihood='5'][data-impact='5']")
    assert "R1" in cell.inner_text()
    assert "Critical" in cell.inner_text()
    assert "R4" in page.locator("td[data-likelihood='4'][data-impact='5']").inner_text()
    assert screenshot("heatmap").stat().st_size > 0


def test_filters_and_following_a_risk(sign_in, board_member, seed, live_server):
    page = sign_in(board_member)
    page.goto(f"{live_server.url}/heatmap/")
    page.select_option("#id_basis", "target")
    page.click("text=Apply filters")
    page.wait_for_load_state()
    assert "basis=target" in page.url
    assert "target" in page.locator("caption").first.inner_text()

    page.goto(f"{live_server.url}/heatmap/")
    page.click("td[data-likelihood='5'][data-impact='5'] a:text('R1')")
    page.wait_for_load_state()
    assert page.url.endswith("/risks/R1/")
    assert "Congressional Resistance" in page.locator("h1").inner_text()


def test_keyboard_reaches_risk_links(sign_in, board_member, seed, live_server):
    page = sign_in(board_member)
    page.goto(f"{live_server.url}/heatmap/")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").startswith("R1:"):
            break
    else:
        pytest.fail("R1's link is not reachable with the keyboard")


@pytest.mark.parametrize("path", ["/heatmap/", "/risks/", "/risks/R3/"])
def test_no_accessibility_violations(sign_in, board_member, seed, live_server, axe, path):
    page = sign_in(board_member)
    page.goto(f"{live_server.url}{path}")
    assert axe() == []
