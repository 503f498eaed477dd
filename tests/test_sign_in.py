"""Sign-in hardening: lockout after failed attempts, idle expiry, logout everywhere."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_page_is_open_and_a_good_password_signs_in(client, board_member):
    assert client.get("/accounts/login/").status_code == HTTPStatus.OK
    response = _login(client, board_member.username, PASSWORD)
    assert response.status_code == HTTPStatus.FOUND


def test_five_failures_lock_the_account_even_with_the_right_password(client, board_member):
    for _ in range(4):
        assert _login(client, board_member.username, "wrong").status_code == HTTPStatus.OK
    assert _login(client, board_member.username, "wrong").status_code == 429
    response = _login(client, board_member.username, PASSWORD)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sessions_expire_after_inactivity(settings):
    # Saved once a minute at most, so the idle timeout is kept to the minute
    # (tests/test_session_idle.py).
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_TOUCH_SECONDS <= 60


def test_password_validators_refuse_weak_passwords(board_member):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("password", user=board_member)


def test_logout_everywhere_ends_every_session_of_the_user(board_member, auditor):
    laptop, phone, other = Client(), Client(), Client()
    laptop.force_login(board_member)
    phone.force_login(board_member)
    other.force_login(auditor)

    response = laptop.post("/accounts/logout-everywhere/")

    assert response.status_code == HTTPStatus.FOUND
    assert phone.get("/heatmap/").status_code == HTTPStatus.FOUND  # back to the login page
    assert other.get("/heatmap/").status_code == HTTPStatus.OK
    assert Session.objects.count() == 1


def test_logout_everywhere_needs_post(client, board_member):
    client.force_login(board_member)
    assert client.get("/accounts/logout-everywhere/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
