"""WebAuthn keys as a second factor (django-otp-webauthn), through the test client with a
software key (ECDSA P-256, "none" attestation): enrolment needs a verified session, a key
verifies a session once per challenge, and every bad input is a JSON 4xx with nothing saved.

These JSON endpoints are POST-only and not in the crawl (tests/test_crawl.py reads the pages'
and the admin's routes): their hostile inputs are here. The browser test with Chromium's
virtual authenticator is tests/e2e/test_webauthn_key.py."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from http import HTTPStatus

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from tests.conftest import mfa_device, totp_now

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
BASE = "/accounts/mfa/key"
ORIGIN = "http://localhost"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftKey:
    """A security key in software: what a browser sends for navigator.credentials.create()
    and .get(), signed with its own P-256 key."""

    def __init__(self, rp_id="localhost", origin=ORIGIN):
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.rp_id, self.origin, self.count = rp_id, origin, 0

    def _auth_data(self, flags: int, attested: bytes = b"") -> bytes:
        self.count += 1
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + self.count.to_bytes(4, "big") + attested

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin}).encode()

    def create(self, options: dict) -> dict:
        numbers = self.private.public_key().public_numbers()
        cose = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id
        auth_data = self._auth_data(0x45, attested + cose)  # user present, verified, attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(self._client_data("webauthn.create", options["challenge"])),
                "attestationObject": b64(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    def get(self, options: dict) -> dict:
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = self._auth_data(0x05)  # user present and verified
        signature = self.private.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
            },
            "clientExtensionResults": {},
        }


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.INFO, logger="security")
    return lambda name: [r for r in caplog.records if r.name == "security" and r.event == name]


def _client() -> Client:
    # The RP id is "localhost" (the first domain of the default DJANGO_ALLOWED_HOSTS); the
    # origin expected is the request's own.
    return Client(HTTP_HOST="localhost")


def _post(client, step: str, body=None, content_type="application/json"):
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body)
    return client.post(f"{BASE}/{step}/", data=data, content_type=content_type)


def _signed_in(user, *, verified: bool) -> Client:
    client = _client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    if verified:
        device = mfa_device(user)
        response = client.post("/accounts/mfa/verify/", {"code": totp_now(device), "next": "/"})
        assert response.status_code == HTTPStatus.FOUND
    return client


def _enrol(client, key: SoftKey):
    options = _post(client, "registration/begin").json()
    return _post(client, "registration/complete", key.create(options))


def test_a_verified_staff_member_adds_a_key_and_then_signs_in_with_it(staff_member, events):
    key = SoftKey()
    client = _signed_in(staff_member, verified=True)
    response = _enrol(client, key)
    assert response.status_code == HTTPStatus.OK, response.content
    device = WebAuthnCredential.objects.get(user=staff_member)
    assert device.name.startswith("Security key added")
    [enrolled] = events("mfa.enrolled")
    assert enrolled.method == "WebAuthnCredential" and enrolled.user == staff_member.username
    assert enrolled.client_ip == "127.0.0.1" and enrolled.request_id

    # A new sign-in: the key, not a code, opens the admin.
    client = _signed_in(staff_member, verified=False)
    assert client.get("/admin/")["Location"].startswith("/accounts/mfa/verify/")
    assert "Use your security key" in client.get("/accounts/mfa/verify/").content.decode()
    options = _post(client, "authentication/begin").json()
    assert [c["id"] for c in options["allowCredentials"]] == [b64(key.credential_id)]
    session_before = client.cookies["sessionid"].value
    done = client.post(
        f"{BASE}/authentication/complete/?next=/admin/",
        data=json.dumps(key.get(options)),
        content_type="application/json",
    )
    assert done.status_code == HTTPStatus.OK, done.content
    assert done.json()["redirect_url"] == "/admin/"
    assert client.cookies["sessionid"].value != session_before  # a new key at verification
    assert client.get("/admin/").status_code == HTTPStatus.OK
    succeeded = events("mfa.succeeded")[-1]
    assert succeeded.method == "WebAuthnCredential" and succeeded.user == staff_member.username


def test_without_the_key_the_admin_stays_closed(staff_member, events):
    client = _signed_in(staff_member, verified=True)
    assert _enrol(client, SoftKey()).status_code == HTTPStatus.OK
    client = _signed_in(staff_member, verified=False)
    options = _post(client, "authentication/begin").json()
    stranger = SoftKey()  # another key: not registered
    refused = _post(client, "authentication/complete", stranger.get(options))
    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert refused.json()["code"] == "credential_not_found"
    assert client.get("/admin/").status_code == HTTPStatus.FOUND
    [failed] = events("mfa.failed")
    assert failed.reason == "credential_not_found" and failed.levelno == logging.WARNING


def test_a_key_cannot_be_added_with_the_password_alone(staff_member, board_member):
    mfa_device(staff_member)
    client = _signed_in(staff_member, verified=False)
    refused = _post(client, "registration/begin")
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json()["code"] == "user_not_verified"
    # Nor by someone with no second factor yet: the app (and its recovery codes) comes first.
    client = _signed_in(board_member, verified=False)
    assert _post(client, "registration/begin").status_code == HTTPStatus.FORBIDDEN
    assert not WebAuthnCredential.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe{}", "application/json"),  # not UTF-8
        (b"[" * 100_000, "application/json"),  # nested past the parser's depth
        (b"[]", "application/json"),
        (b'"a string"', "application/json"),
        (b"1e999", "application/json"),
        (b"id=x&rawId=y", "application/x-www-form-urlencoded"),
    ],
)
def test_bad_bodies_answer_400_in_json_and_save_nothing(staff_member, body, content_type):
    client = _signed_in(staff_member, verified=True)
    _post(client, "registration/begin")
    for step in ("registration/complete", "authentication/complete", "registration/begin"):
        response = _post(client, step, body, content_type=content_type)
        assert response.status_code == HTTPStatus.BAD_REQUEST, (step, response.content)
        assert response.json()["code"] == "malformed_request"
    assert not WebAuthnCredential.objects.exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: {},
        lambda c: {**c, "response": "x"},
        lambda c: {**c, "rawId": "!!!"},
        lambda c: {**c, "type": "password"},
        lambda c: {**c, "clientExtensionResults": ["x"]},
        lambda c: {**c, "response": {**c["response"], "attestationObject": b64(b"\xff" * 40)}},
        lambda c: {**c, "response": {**c["response"], "clientDataJSON": b64(b"[]")}},
    ],
)
def test_a_mangled_registration_answers_4xx_and_saves_nothing(staff_member, mangle, events):
    client = _signed_in(staff_member, verified=True)
    options = _post(client, "registration/begin").json()
    response = _post(client, "registration/complete", mangle(SoftKey().create(options)))
    # The package reads clientExtensionResults only after verification; a list there is no
    # hint, not an error.
    if response.status_code == HTTPStatus.OK:
        assert WebAuthnCredential.objects.get().discoverable is None
        return
    assert HTTPStatus.BAD_REQUEST <= response.status_code < 500, response.content
    assert "code" in response.json()
    assert not WebAuthnCredential.objects.exists()
    assert events("mfa.enrol_failed")


def test_a_registration_for_another_site_or_challenge_is_refused(staff_member):
    client = _signed_in(staff_member, verified=True)
    for key in (SoftKey(rp_id="evil.example"), SoftKey(origin="https://evil.example")):
        response = _enrol(client, key)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    options = _post(client, "registration/begin").json()
    stale = SoftKey().create({**options, "challenge": b64(b"another challenge")})
    assert _post(client, "registration/complete", stale).status_code == 422
    assert not WebAuthnCredential.objects.exists()


def test_a_replayed_challenge_or_answer_is_refused(staff_member):
    key = SoftKey()
    client = _signed_in(staff_member, verified=True)
    assert _enrol(client, key).status_code == HTTPStatus.OK
    # The same key again (a browser would not offer it: it is in excludeCredentials).
    options = _post(client, "registration/begin").json()
    answer = key.create(options)
    again = _post(client, "registration/complete", answer)
    assert again.status_code == HTTPStatus.CONFLICT and again.json()["code"] == "credential_exists"
    # And that answer once more: its challenge was used up.
    replay = _post(client, "registration/complete", answer)
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["code"] == "invalid_state"
    assert WebAuthnCredential.objects.filter(user=staff_member).count() == 1

    client = _signed_in(staff_member, verified=False)
    options = _post(client, "authentication/begin").json()
    signed = key.get(options)
    assert _post(client, "authentication/complete", signed).status_code == HTTPStatus.OK
    # In another unverified session, the captured answer is refused: no challenge is open,
    # and once one is, it is not the one the answer signed.
    other = _signed_in(staff_member, verified=False)
    replay = _post(other, "authentication/complete", signed)
    assert replay.status_code == HTTPStatus.BAD_REQUEST and replay.json()["code"] == "invalid_state"
    _post(other, "authentication/begin")
    assert _post(other, "authentication/complete", signed).status_code == 422
    assert other.get("/admin/").status_code == HTTPStatus.FOUND


def test_another_user_s_key_is_refused(staff_member, auditor):
    mine, theirs = SoftKey(), SoftKey()
    assert _enrol(_signed_in(staff_member, verified=True), mine).status_code == HTTPStatus.OK
    assert _enrol(_signed_in(auditor, verified=True), theirs).status_code == HTTPStatus.OK
    client = _signed_in(staff_member, verified=False)
    options = _post(client, "authentication/begin").json()
    refused = _post(client, "authentication/complete", theirs.get(options))
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json()["code"] == "credential_user_mismatch"
    assert client.get("/admin/").status_code == HTTPStatus.FOUND


def test_a_user_without_a_key_gets_no_challenge(staff_member):
    client = _signed_in(staff_member, verified=False) if mfa_device(staff_member) else None
    response = _post(client, "authentication/begin")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Use your security key" not in client.get("/accounts/mfa/verify/").content.decode()


def test_other_methods_and_anonymous_callers_get_no_ceremony(staff_member):
    anonymous = _client()
    for step in ("registration/begin", "authentication/begin", "authentication/complete"):
        assert _post(anonymous, step).status_code == HTTPStatus.FOUND  # to the sign-in page
    client = _signed_in(staff_member, verified=True)
    for step in (
        "registration/begin",
        "registration/complete",
        "authentication/begin",
        "authentication/complete",
    ):
        # 405, or the ceremony's own refusal first (no key to use: 404).
        assert client.get(f"{BASE}/{step}/").status_code in (405, 404)
    assert client.get(f"{BASE}/jsi18n/").status_code == HTTPStatus.OK


def test_the_origin_is_the_request_s_own_within_the_rp_id(rf, settings):
    from accounts.webauthn import expected_origin

    assert expected_origin(rf.get("/", HTTP_HOST="localhost:8000")) == "http://localhost:8000"
    assert expected_origin(rf.get("/", HTTP_HOST="testserver")) is None
    settings.WEBAUTHN_RP_ID = "example.gov"
    settings.ALLOWED_HOSTS = ["risk.example.gov"]
    assert expected_origin(rf.get("/", HTTP_HOST="risk.example.gov")) == "http://risk.example.gov"
    settings.HTTPS = True
    assert expected_origin(rf.get("/", HTTP_HOST="risk.example.gov")) is None
    secure = rf.get("/", HTTP_HOST="risk.example.gov", secure=True)
    assert expected_origin(secure) == "https://risk.example.gov"


def test_removing_a_key_needs_a_verified_session_and_is_logged(staff_member, auditor, events):
    client = _signed_in(staff_member, verified=True)
    assert _enrol(client, SoftKey()).status_code == HTTPStatus.OK
    key = WebAuthnCredential.objects.get(user=staff_member)
    unverified = _signed_in(staff_member, verified=False)
    assert unverified.post(f"/accounts/mfa/keys/{key.pk}/remove/").status_code == 302
    assert WebAuthnCredential.objects.filter(pk=key.pk).exists()
    # Someone else's key: nothing happens.
    _signed_in(auditor, verified=True).post(f"/accounts/mfa/keys/{key.pk}/remove/")
    assert WebAuthnCredential.objects.filter(pk=key.pk).exists()
    client.post(f"/accounts/mfa/keys/{key.pk}/remove/")
    assert not WebAuthnCredential.objects.filter(pk=key.pk).exists()
    [removed] = events("mfa.key_removed")
    assert removed.user == staff_member.username
