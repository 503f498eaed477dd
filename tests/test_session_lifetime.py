"""Sessions end a fixed time after sign-in however active they are, and sensitive pages ask
for the password again when it was last given too long ago."""

from __future__ import annotations

import datetime
import logging

import pytest
import time_machine
from django.test import Client

from accounts.models import ApiToken
from accounts.services import token_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _sign_in(user) -> Client:
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})[
            "Location"
        ]
        == "/"
    )
    return client


def test_an_active_session_ends_after_its_absolute_lifetime(board_member, settings, seed):
    settings.SESSION_MAX_AGE_SECONDS = 12 * 3600
    settings.SESSION_COOKIE_AGE = 3600
    start = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = _sign_in(board_member)
        for _ in range(12):  # a request every 55 minutes: never idle long enough to expire
            clock.shift(datetime.timedelta(minutes=55))
            assert client.get("/").status_code == 200
        clock.shift(datetime.timedelta(minutes=61))  # 12 h 01 min after signing in
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_session_from_before_the_rule_ends(client, board_member):
    client.force_login(board_member)
    session = client.session
    del session["accounts.signed_in_at"]
    session.save()
    assert client.get("/").status_code == 302


def test_creating_a_token_asks_for_the_password_again_after_the_window(
    board_member, settings, caplog
):
    settings.REAUTH_SECONDS = 15 * 60
    caplog.set_level(logging.INFO, logger="security")
    start = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = _sign_in(board_member)
        # Fresh from signing in: no question asked.
        assert client.post("/accounts/tokens/", {"name": "first"}).status_code == 200
        clock.shift(datetime.timedelta(minutes=16))
        refused = client.post(
            "/accounts/tokens/",
            {"name": "second"},
            HTTP_REFERER="http://testserver/accounts/tokens/",
        )
        assert refused.status_code == 302
        assert refused["Location"].startswith("/accounts/reauth/?next=")
        assert list(ApiToken.objects.values_list("name", flat=True)) == ["first"]

        wrong = client.post("/accounts/reauth/", {"password": "nope", "next": "/accounts/tokens/"})
        assert wrong.status_code == 400
        right = client.post(
            "/accounts/reauth/", {"password": PASSWORD, "next": "/accounts/tokens/"}
        )
        assert right["Location"] == "/accounts/tokens/"
        assert client.post("/accounts/tokens/", {"name": "second"}).status_code == 200
    assert ApiToken.objects.count() == 2
    events = [r.event for r in caplog.records if r.name == "security"]
    assert "reauth.failed" in events and "reauth.succeeded" in events


def test_reauth_never_sends_the_user_off_site(board_member):
    client = _sign_in(board_member)
    response = client.post(
        "/accounts/reauth/", {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_admin_user_management_needs_a_recent_password(superuser_client_factory, settings):
    settings.REAUTH_SECONDS = 0
    client = superuser_client_factory()
    response = client.get("/admin/auth/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")


def test_the_api_with_a_token_is_never_asked(auditor, settings, seed):
    settings.REAUTH_SECONDS = 0
    settings.SESSION_MAX_AGE_SECONDS = 0
    _, key = token_create(user=auditor, name="script")
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/risks/")
    assert response.status_code == 200


@pytest.fixture
def superuser_client_factory(db):
    from tests.factories import UserFactory

    def make():
        user = UserFactory(username="root", is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(user)
        return client

    return make
