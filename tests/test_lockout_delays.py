"""Growing delays for the sign-in lockout: each further cap of failures on one account
doubles its cool-off, up to a ceiling (accounts/lockout.py)."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django.utils import timezone

from accounts.lockout import cool_off_for

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
MINUTE = datetime.timedelta(minutes=1)


def _login(username, password, address):
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def _guess_from_twenty_addresses(username, round_):
    """One cap's worth of failures, spread so that no single address reaches its own cap."""
    return [_login(username, "wrong", f"198.51.{100 + round_}.{n}").status_code for n in range(20)]


def test_the_cool_off_doubles_with_each_cap_up_to_the_ceiling(board_member, settings):
    assert settings.AXES_COOLOFF_BASE == 15 * MINUTE
    assert settings.AXES_COOLOFF_MAX.total_seconds() == 24 * 3600
    now = timezone.now()
    expected = {0: 15, 19: 15, 20: 15, 39: 15, 40: 30, 60: 60, 80: 120, 200: 1440, 1000: 1440}
    seen = {}
    for failures in sorted(expected):
        missing = failures - AccessFailureLog.objects.filter(username=board_member.username).count()
        AccessFailureLog.objects.bulk_create(
            AccessFailureLog(username=board_member.username, ip_address="203.0.113.5")
            for _ in range(missing)
        )
        seen[failures] = cool_off_for(board_member.username, at=now) // MINUTE
    assert seen == expected
    # Failures count for a week (AXES_COOLOFF_WINDOW); another account's never did.
    assert cool_off_for(board_member.username, at=now + datetime.timedelta(days=6)) == (
        1440 * MINUTE
    )
    assert cool_off_for(board_member.username, at=now + datetime.timedelta(days=7, minutes=1)) == (
        15 * MINUTE
    )
    assert cool_off_for("someone-else", at=now) == 15 * MINUTE


def test_a_second_lockout_of_the_account_lasts_twice_as_long(board_member):
    name = board_member.username
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _guess_from_twenty_addresses(name, 0)[-1] == HTTPStatus.TOO_MANY_REQUESTS
        assert _login(name, PASSWORD, "203.0.113.99").status_code == HTTPStatus.TOO_MANY_REQUESTS
    # 21 failures (the refused attempt counts): the first cool-off, 15 minutes.
    with time_machine.travel(start + 14 * MINUTE, tick=False):
        assert _login(name, PASSWORD, "203.0.113.98").status_code == HTTPStatus.TOO_MANY_REQUESTS
    # That refusal started the wait again: 15 minutes from it.
    with time_machine.travel(start + 30 * MINUTE, tick=False):
        assert _login(name, PASSWORD, "203.0.113.97").status_code == HTTPStatus.FOUND

    # The signed-in client's count is cleared; every other address's stays, and every failure
    # stays on record. Twenty more failures: the second cap, and the wait doubles.
    second = start + 31 * MINUTE
    with time_machine.travel(second, tick=False):
        statuses = _guess_from_twenty_addresses(name, 1)
        assert HTTPStatus.TOO_MANY_REQUESTS in statuses
        failures = AccessFailureLog.objects.filter(username=name).count()
        assert failures >= 40
        assert cool_off_for(name) == 30 * MINUTE
    with time_machine.travel(second + 16 * MINUTE, tick=False):
        # After the first lockout's 15 minutes, still locked.
        assert _login(name, PASSWORD, "203.0.113.96").status_code == HTTPStatus.TOO_MANY_REQUESTS
    with time_machine.travel(second + 29 * MINUTE, tick=False):
        assert _login(name, PASSWORD, "203.0.113.95").status_code == HTTPStatus.TOO_MANY_REQUESTS
    with time_machine.travel(second + 31 * MINUTE, tick=False):
        assert _login(name, PASSWORD, "203.0.113.94").status_code == HTTPStatus.FOUND


def test_the_lockout_page_says_how_long(board_member):
    for n in range(19):
        _login(board_member.username, "wrong", f"198.51.100.{n}")
    response = _login(board_member.username, "wrong", "198.51.100.19")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "0:15:00" in response.content.decode()


def test_one_account_s_short_cool_off_does_not_clear_another_s_long_one(board_member, auditor):
    """axes would delete every account's counts older than the failing request's cool-off;
    here only counts older than the ceiling go."""
    AccessFailureLog.objects.bulk_create(
        AccessFailureLog(username=board_member.username, ip_address="203.0.113.5")
        for _ in range(60)
    )  # the next lockout of board_member lasts an hour
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _guess_from_twenty_addresses(board_member.username, 0)
    with time_machine.travel(start + 20 * MINUTE, tick=False):
        _login(auditor.username, "wrong", "192.0.2.1")  # a 15-minute account fails once
        assert AccessAttempt.objects.filter(username=board_member.username).count() == 20
        assert (
            _login(board_member.username, PASSWORD, "203.0.113.99").status_code
            == HTTPStatus.TOO_MANY_REQUESTS
        )
