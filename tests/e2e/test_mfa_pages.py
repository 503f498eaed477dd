"""The second-factor pages in a real browser: enrol with a pyotp code, recovery codes shown,
and axe-core finds nothing on either page."""

from __future__ import annotations

import pyotp
import pytest

from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_enrol_at_first_sign_in(page, live_server, staff_member, axe):
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    page.fill("#id_username", staff_member.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/mfa/enrol/" in page.url
    assert axe() == []

    secret = page.locator("#mfa-secret").inner_text()
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#recovery-codes li").count() == 10
    assert axe() == []
    page.click("text=Continue")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/")
