"""Sign-in lockout behind the TLS proxy: it keys on the client's address as the trusted
proxy reports it, and a per-username cap slows a guess spread over many addresses."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from axes.models import AccessFailureLog
from django.test import Client

from accounts.client import client_address

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def _login(username, password, client_ip, sent_by_client=""):
    # The proxy appends the address it received the request from to what the client sent.
    forwarded = f"{sent_by_client}, {client_ip}" if sent_by_client else client_ip
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_five_bad_passwords_lock_one_client_not_everyone(board_member):
    for _ in range(5):
        _login(board_member.username, "wrong", "203.0.113.5")
    assert _login(board_member.username, PASSWORD, "203.0.113.5").status_code == 429
    assert _login(board_member.username, PASSWORD, "198.51.100.7").status_code == HTTPStatus.FOUND


def test_a_forged_header_does_not_move_the_client_to_another_address(board_member):
    for n in range(5):
        _login(board_member.username, "wrong", "203.0.113.5", sent_by_client=f"192.0.2.{n}")
    assert _login(board_member.username, PASSWORD, "203.0.113.5").status_code == 429


def test_guessing_spread_over_twenty_addresses_is_capped(board_member, settings):
    assert settings.AXES_USERNAME_FAILURE_LIMIT == 20
    for n in range(19):  # each address stays far below its own limit of five
        assert _login(board_member.username, "wrong", f"198.51.100.{n}").status_code == 200
    assert _login(board_member.username, "wrong", "198.51.100.19").status_code == 429
    # The account is now locked from every address, the right password included.
    assert _login(board_member.username, PASSWORD, "203.0.113.99").status_code == 429
    # Every attempt is on record, the refused one during the lockout included.
    assert AccessFailureLog.objects.filter(username=board_member.username).count() == 21


def test_the_username_cap_locks_that_account_only(board_member, auditor):
    for n in range(20):
        _login(board_member.username, "wrong", f"198.51.100.{n}")
    assert _login(auditor.username, PASSWORD, "198.51.100.1").status_code == HTTPStatus.FOUND


def test_a_success_keeps_the_failures_on_record(board_member):
    for _ in range(3):
        _login(board_member.username, "wrong", "203.0.113.5")
    assert _login(board_member.username, PASSWORD, "203.0.113.5").status_code == HTTPStatus.FOUND
    assert AccessFailureLog.objects.filter(username=board_member.username).count() == 3


def test_without_a_trusted_proxy_the_header_is_not_believed(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_address(request) == PROXY


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "192.0.2.1, 203.0.113.5", "203.0.113.5"),
        (2, "192.0.2.1, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (2, "203.0.113.5", PROXY),  # shorter than the chain: it bypassed a proxy
        (1, "not-an-address", PROXY),
        (1, "", PROXY),
    ],
)
def test_the_client_is_the_nth_address_from_the_right(rf, settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
