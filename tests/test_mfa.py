"""Multi-factor sign-in: staff show a TOTP code (or a recovery code) after the password;
without one they reach nothing but the second-factor pages. Codes are made with pyotp."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

import pyotp
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCode, RecoveryCodeDevice
from accounts.services import token_create
from tests.conftest import mfa_device, totp_now

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.INFO, logger="security")
    return lambda name: [r for r in caplog.records if r.name == "security" and r.event == name]


def _sign_in(client, user, next_url="/admin/"):
    response = client.post(
        f"/accounts/login/?next={next_url}",
        {"username": user.username, "password": PASSWORD, "next": next_url},
    )
    assert response.status_code == HTTPStatus.FOUND
    return client.get(next_url)


def test_staff_without_a_device_are_sent_to_enrol_and_get_in_with_a_pyotp_code(
    client, staff_member, events
):
    response = _sign_in(client, staff_member)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/mfa/enrol/?next=%2Fadmin%2F")
    assert client.get("/").status_code == HTTPStatus.FOUND  # no page without it

    page = client.get(response["Location"])
    secret = page.context["secret"]
    assert "<svg" in page.content.decode()
    refused = client.post("/accounts/mfa/enrol/", {"code": "000000", "next": "/admin/"})
    assert "does not match" in refused.content.decode()
    TOTPDevice.objects.get(user=staff_member).throttle_reset()  # failures slow the next try

    done = client.post(
        "/accounts/mfa/enrol/", {"code": pyotp.TOTP(secret).now(), "next": "/admin/"}
    )
    codes = re.findall(r"<li><code>([a-z2-7]{16})</code></li>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/admin/").status_code == HTTPStatus.OK
    [enrolled] = events("mfa.enrolled")
    assert enrolled.user == staff_member.username and enrolled.client_ip == "127.0.0.1"
    assert events("mfa.enrol_failed")


def test_sign_in_with_a_device_needs_its_code_and_fails_without_it(client, staff_member, events):
    device = mfa_device(staff_member)
    response = _sign_in(client, staff_member)
    assert response["Location"].startswith("/accounts/mfa/verify/")

    wrong = client.post("/accounts/mfa/verify/", {"code": "123456", "next": "/admin/"})
    assert wrong.status_code == HTTPStatus.OK
    assert "not valid" in wrong.content.decode()
    assert client.get("/admin/").status_code == HTTPStatus.FOUND
    [failed] = events("mfa.failed")
    assert failed.levelno == logging.WARNING and failed.user == staff_member.username

    device.refresh_from_db()
    device.throttle_reset()  # failures slow the next try
    right = client.post("/accounts/mfa/verify/", {"code": totp_now(device), "next": "/admin/"})
    assert right.status_code == HTTPStatus.FOUND and right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK
    assert events("mfa.succeeded")


def test_a_recovery_code_signs_in_once(client, staff_member):
    mfa_device(staff_member)
    recovery = RecoveryCodeDevice.objects.create(user=staff_member, name="Recovery codes")
    recovery.add_codes(["abcdefghijklmnop"])
    _sign_in(client, staff_member)
    response = client.post("/accounts/mfa/verify/", {"code": "ABCD-EFGH-IJKL-MNOP", "next": "/"})
    assert response.status_code == HTTPStatus.FOUND
    assert not RecoveryCode.objects.exists()

    client.post("/accounts/logout/")
    _sign_in(client, staff_member)
    again = client.post("/accounts/mfa/verify/", {"code": "abcdefghijklmnop", "next": "/"})
    assert again.status_code == HTTPStatus.OK


def test_a_stolen_password_cannot_replace_an_enrolled_device(client, staff_member):
    mfa_device(staff_member)
    _sign_in(client, staff_member)
    response = client.get("/accounts/mfa/enrol/")
    assert response["Location"].startswith("/accounts/mfa/verify/")


def test_board_members_sign_in_without_unless_every_user_needs_it(client, board_member, settings):
    assert _sign_in(client, board_member, "/").status_code == HTTPStatus.OK
    settings.MFA_ALL_USERS = True
    assert client.get("/").status_code == HTTPStatus.FOUND


def test_off_in_the_demo(client, staff_member, settings):
    settings.MFA_REQUIRED = False
    assert _sign_in(client, staff_member).status_code == HTTPStatus.OK


def test_the_api_answers_403_to_an_unverified_session_and_tokens_still_work(client, staff_member):
    _sign_in(client, staff_member, "/")
    response = client.get("/api/v1/risks/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["Content-Type"] == "application/json"
    assert "second factor" in response.json()["detail"]

    _token, key = token_create(user=staff_member, name="pull")
    fresh = client.__class__()
    answer = fresh.get("/api/v1/risks/", HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == HTTPStatus.OK


def test_next_never_leaves_the_site(client, staff_member):
    device = mfa_device(staff_member)
    _sign_in(client, staff_member, "/")
    response = client.post(
        "/accounts/mfa/verify/", {"code": totp_now(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_admin_shows_no_secret_and_deleting_a_device_resets_it(admin_client, staff_member):
    device = mfa_device(staff_member)
    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    assert device.key not in page.content.decode()
    assert admin_client.get("/admin/otp_static/staticdevice/").status_code == HTTPStatus.NOT_FOUND

    admin_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert not TOTPDevice.objects.filter(user=staff_member).exists()


def test_recovery_codes_are_stored_only_as_salted_digests(staff_member):
    from accounts.services import mfa_enrol_begin, mfa_enrol_confirm

    device = mfa_enrol_begin(user=staff_member)
    codes = mfa_enrol_confirm(user=staff_member, token=totp_now(device))
    stored = list(RecoveryCode.objects.values_list("salt", "digest"))
    assert len(stored) == len(codes) == 10
    assert len({salt for salt, _ in stored}) == 10  # a salt of its own each (128 bits)
    dump = repr(stored) + repr(list(RecoveryCodeDevice.objects.values()))
    assert not any(code in dump for code in codes)
    recovery = RecoveryCodeDevice.objects.get(user=staff_member)
    assert recovery.verify_token(codes[3].upper())
    assert not recovery.verify_token(codes[3])  # used up
    assert RecoveryCode.objects.count() == 9


def test_the_migration_hashes_the_plain_text_codes_already_kept(client, staff_member):
    import importlib

    from django.apps import apps
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    mfa_device(staff_member)
    old = StaticDevice.objects.create(user=staff_member, name="Recovery codes", confirmed=True)
    StaticToken.objects.create(device=old, token="abcdefghijklmnop")
    StaticToken.objects.create(device=old, token="qrstuvwxyz234567")
    migration = importlib.import_module("accounts.migrations.0006_hash_existing_recovery_codes")
    migration.hash_existing_codes(apps, None)

    assert not StaticToken.objects.exists() and not StaticDevice.objects.exists()
    assert RecoveryCode.objects.filter(device__user=staff_member).count() == 2
    assert "abcdefghijklmnop" not in repr(list(RecoveryCode.objects.values()))
    _sign_in(client, staff_member)
    response = client.post("/accounts/mfa/verify/", {"code": "abcd-efgh-ijkl-mnop", "next": "/"})
    assert response.status_code == HTTPStatus.FOUND
