"""Security events are logged with who, from where and what: sign-in success and failure,
lockouts, refusals (401, 403, 409, 412), token creation and revocation."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from accounts.services import token_create, token_revoke

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


@pytest.fixture
def events(caplog, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    caplog.set_level(logging.INFO, logger="security")

    def records(event):
        return [r for r in caplog.records if r.name == "security" and r.event == event]

    return records


def _client(ip="203.0.113.5"):
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ip)


def test_a_failed_sign_in_names_the_username_and_the_real_address(events, board_member):
    _client().post("/accounts/login/", {"username": board_member.username, "password": "no"})
    (record,) = events("sign_in.failed")
    assert record.user == board_member.username
    assert record.client_ip == "203.0.113.5"
    assert record.levelno == logging.WARNING
    assert "*" not in record.getMessage()


def test_a_successful_sign_in_is_logged(events, board_member):
    _client().post(
        "/accounts/login/",
        {"username": board_member.username, "password": "correct-horse-battery"},
    )
    (record,) = events("sign_in.succeeded")
    assert (record.user, record.client_ip) == (board_member.username, "203.0.113.5")


def test_a_lockout_is_logged(events, board_member):
    client = _client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": board_member.username, "password": "no"})
    (record,) = events("sign_in.locked_out")
    assert (record.user, record.client_ip) == (board_member.username, "203.0.113.5")


def test_the_axes_logger_speaks_at_info(settings):
    assert settings.LOGGING["loggers"]["axes"]["level"] == "INFO"


def test_401_and_403_are_logged_with_user_and_address(events, board_member):
    _client().get("/api/v1/risks/", headers={"authorization": "Token nope"})
    (unauthorised,) = events("http.401")
    assert unauthorised.client_ip == "203.0.113.5"
    assert unauthorised.path == "/api/v1/risks/"

    _, key = token_create(user=board_member, name="t")
    _client().post("/api/v1/assessments/", {}, headers={"authorization": f"Token {key}"})
    (forbidden,) = events("http.403")
    assert forbidden.user == board_member.username
    assert forbidden.method == "POST"


def test_token_creation_and_revocation_are_logged(events, auditor, admin_user):
    token, _ = token_create(user=auditor, name="GAO")
    token_revoke(token=token, by=admin_user)
    (created,) = events("token.created")
    (revoked,) = events("token.revoked")
    assert created.user == auditor.username and created.token_name == "GAO"
    assert revoked.user == admin_user.username and revoked.owner == auditor.username


def test_a_username_with_a_newline_cannot_forge_a_log_line(events):
    _client().post("/accounts/login/", {"username": "x\nsign_in.succeeded", "password": "no"})
    (record,) = events("sign_in.failed")
    assert "\n" not in record.getMessage()
    assert record.user == "x\\nsign_in.succeeded"
