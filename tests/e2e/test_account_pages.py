"""The account pages in a real browser: create a token (key shown once), change password;
axe-core finds nothing."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_create_and_revoke_a_token(sign_in, auditor, live_server, axe):
    page = sign_in(auditor)
    page.click("text=API tokens")
    page.wait_for_load_state()
    assert axe() == []
    page.fill("#id_name", "GAO pull")
    page.click("text=Create token")
    page.wait_for_load_state()
    key = page.locator("#new-token").inner_text()
    assert len(key) == 64
    assert axe() == []

    page.goto(f"{live_server.url}/accounts/tokens/")
    assert key not in page.content()
    page.click("button:has-text('Revoke')")
    page.wait_for_load_state()
    assert "revoked" in page.content()


def test_password_change_page_has_no_violations(sign_in, board_member, live_server, axe):
    page = sign_in(board_member)
    page.click("text=Password")
    page.wait_for_load_state()
    assert page.url.endswith("/accounts/password_change/")
    assert axe() == []
