"""A security key in a real browser: Debian's Chromium with its virtual authenticator (CDP
WebAuthn domain: CTAP2, internal transport, resident keys, user verification). A Staff member
who needs a second factor adds the key on /accounts/mfa/, then signs in with the password and
the key; without the key the admin stays closed. The page runs under the site's real CSP."""

from __future__ import annotations

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def strict_page(browser):
    """A page with the site's Content-Security-Policy enforced (no bypass), and a record of
    what the console said."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda message: page.console_lines.append(message.text))
    yield page
    context.close()


def _virtual_authenticator(page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _password_only(page, base, user):
    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _sign_out(page):
    # A new browser session (the cookies gone); the virtual authenticator stays with the page.
    page.context.clear_cookies()


def test_staff_add_a_key_then_sign_in_with_it_and_not_without(
    strict_page, live_server, staff_member, settings
):
    from tests.conftest import mfa_device, totp_now

    settings.OTP_WEBAUTHN_TIMEOUT_SECONDS = 5  # a ceremony with no key fails within 5 s
    page = strict_page
    base = live_server.url
    assert base.startswith("http://localhost:")  # the RP id; browsers refuse an IP address
    cdp, authenticator = _virtual_authenticator(page)

    # Signed in with the password and the app's code, the user adds a key.
    device = mfa_device(staff_member)
    _password_only(page, base, staff_member)
    assert "/accounts/mfa/verify/" in page.url
    page.fill("#id_code", totp_now(device))
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{base}/accounts/mfa/")
    page.click("#passkey-register-button")
    page.wait_for_selector("#passkey-register-status-message:has-text('Registration successful')")
    key = WebAuthnCredential.objects.get(user=staff_member)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    page.reload()
    assert key.name in page.locator("#security-keys").inner_text()

    # A new sign-in: the password, then the key.
    _sign_out(page)
    _password_only(page, base, staff_member)
    assert "/accounts/mfa/verify/" in page.url
    page.click("#passkey-verification-button")
    page.wait_for_url("**/admin/")
    assert page.locator("h1").first.inner_text() != "Second factor"
    key.refresh_from_db()
    assert key.last_used_at is not None

    # Without the key (the authenticator is gone), the verify step fails and the admin stays
    # closed.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    _sign_out(page)
    _password_only(page, base, staff_member)
    page.click("#passkey-verification-button")
    page.wait_for_selector(
        "#passkey-verification-status-message[data-status-enum]:not([data-status-enum='BUSY'])",
        timeout=15_000,
    )
    status = page.locator("#passkey-verification-status-message").inner_text()
    assert status == "Verification canceled or not allowed."
    page.goto(f"{base}/admin/")
    assert "/accounts/mfa/verify/" in page.url

    # The site's CSP held and nothing was refused by it.
    assert not [line for line in page.console_lines if "Content Security Policy" in line]


def test_the_key_pages_pass_axe(page, live_server, staff_member, sign_in, axe):
    WebAuthnCredential.objects.create(
        user=staff_member,
        name="Security key added 2026-12-01 09:00 UTC",
        credential_id=b"\x01" * 32,
        public_key=b"\x02" * 77,
        aaguid="00000000-0000-0000-0000-000000000000",
    )
    sign_in(staff_member)
    page.goto(f"{live_server.url}/accounts/mfa/")
    page.wait_for_selector("#passkey-register-button")
    assert axe() == []
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", staff_member.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#passkey-verification-button")
    assert axe() == []
