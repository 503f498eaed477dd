"""The idle timeout: a signed-in session ends SESSION_COOKIE_AGE after its last request, to
the minute. It is saved again once a minute at most (accounts.middleware
IdleSessionMiddleware), not on every request, and a request without a signed-in user never
creates or saves a session."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
START = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=datetime.UTC)


def _sign_in(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/"
    return client


def _session_writes(client: Client, path: str = "/heatmap/") -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(
        "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
        for q in queries.captured_queries
    )


def test_requests_within_the_minute_do_not_write_the_session(board_member, seed):
    with time_machine.travel(START, tick=False) as clock:
        client = _sign_in(board_member)
        assert _session_writes(client) == 0  # signing in saved it
        clock.shift(datetime.timedelta(seconds=59))
        assert _session_writes(client) == 0
        clock.shift(datetime.timedelta(seconds=1))  # a minute since the last save
        assert _session_writes(client) == 1
        assert _session_writes(client) == 0


def test_an_active_session_stays_and_an_idle_one_ends(board_member, settings, seed):
    settings.SESSION_COOKIE_AGE = 30 * 60
    with time_machine.travel(START, tick=False) as clock:
        client = _sign_in(board_member)
        for _ in range(4):  # a request every 20 minutes: never idle for 30
            clock.shift(datetime.timedelta(minutes=20))
            assert client.get("/heatmap/").status_code == 200
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        expiry = Session.objects.get(session_key=key).expire_date
        assert expiry == START + datetime.timedelta(minutes=80 + 30)
        clock.shift(datetime.timedelta(minutes=31))
        response = client.get("/heatmap/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_stale_cookie_creates_no_session(client, settings, seed):
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session-key-000000000000"
    for path in ("/healthz", "/accounts/login/"):
        client.get(path)
    assert Session.objects.count() == 0
