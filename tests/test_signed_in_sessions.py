"""/accounts/sessions/: the user's signed-in sessions (where, on what, when) and tokens, each
of which they can end."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import SignedInSession
from accounts.services import token_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _sign_in(user, ip: str, agent: str) -> Client:
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    return client


def test_the_page_lists_each_session_with_its_address_and_browser(board_member, auditor):
    laptop = _sign_in(board_member, "198.51.100.7", "Firefox on the laptop")
    _sign_in(board_member, "198.51.100.8", "Safari on the phone")
    _sign_in(auditor, "198.51.100.9", "Someone else's browser")
    token_create(user=board_member, name="quarterly pull")

    page = laptop.get("/accounts/sessions/")

    assert page.status_code == 200
    text = page.content.decode()
    for shown in ("198.51.100.7", "Firefox on the laptop", "198.51.100.8", "Safari on the phone"):
        assert shown in text
    assert "198.51.100.9" not in text and "Someone else" not in text
    assert "This session" in text
    assert "quarterly pull" in text


def test_ending_another_session_signs_that_browser_out(board_member):
    laptop = _sign_in(board_member, "198.51.100.7", "laptop")
    phone = _sign_in(board_member, "198.51.100.8", "phone")
    other = SignedInSession.objects.get(user_agent="phone")

    response = laptop.post(f"/accounts/sessions/{other.pk}/end/")

    assert response.status_code == 302
    assert phone.get("/").status_code == 302  # sent to sign in
    assert laptop.get("/").status_code == 200
    assert list(SignedInSession.objects.values_list("user_agent", flat=True)) == ["laptop"]


def test_nobody_ends_a_session_that_is_not_theirs(board_member, auditor):
    _sign_in(auditor, "198.51.100.9", "auditor")
    laptop = _sign_in(board_member, "198.51.100.7", "laptop")
    theirs = SignedInSession.objects.get(user=auditor)
    assert laptop.post(f"/accounts/sessions/{theirs.pk}/end/").status_code == 404
    assert SignedInSession.objects.filter(pk=theirs.pk).exists()


def test_signing_out_removes_the_record(board_member):
    laptop = _sign_in(board_member, "198.51.100.7", "laptop")
    laptop.post("/accounts/logout/")
    assert not SignedInSession.objects.exists()
