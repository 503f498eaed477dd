"""Every signed-in user changes their own password; 12 characters at least; the change ends
the other sessions and the tokens, and the user is emailed."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import ApiToken
from accounts.services import token_create

pytestmark = pytest.mark.django_db

OLD = "correct-horse-battery"
NEW = "a-much-longer-passphrase-2027"


def _change(client, new=NEW, old=OLD):
    return client.post(
        "/accounts/password_change/",
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_eleven_characters_are_refused_twelve_accepted(board_member):
    with pytest.raises(ValidationError):
        validate_password("Summer2026", user=board_member)
    with pytest.raises(ValidationError):
        validate_password("Kx9!mQ2#vL7", user=board_member)  # 11
    validate_password("Kx9!mQ2#vL7z", user=board_member)  # 12


def test_a_board_member_changes_their_password(client, board_member):
    client.force_login(board_member)
    assert client.get("/accounts/password_change/").status_code == HTTPStatus.OK
    response = _change(client)
    assert response.status_code == HTTPStatus.FOUND
    assert response["location"] == "/accounts/password_change/done/"
    board_member.refresh_from_db()
    assert board_member.check_password(NEW)
    assert client.get("/").status_code == HTTPStatus.OK  # this session stays signed in


def test_a_short_new_password_is_refused_and_nothing_changes(client, board_member):
    client.force_login(board_member)
    response = _change(client, new="Summer2026")
    assert response.status_code == HTTPStatus.OK
    assert "at least 12 characters" in response.content.decode()
    board_member.refresh_from_db()
    assert board_member.check_password(OLD)
    assert mail.outbox == []


def test_the_change_is_emailed_and_ends_other_sessions_and_tokens(client, board_member):
    other = Client()
    other.force_login(board_member)
    token_create(user=board_member, name="script")
    client.force_login(board_member)

    _change(client)

    (message,) = mail.outbox
    assert message.to == [board_member.email]
    assert "password" in message.subject.lower()
    assert other.get("/").status_code == HTTPStatus.FOUND  # signed out
    assert not ApiToken.objects.filter(user=board_member).exists()


def test_the_page_needs_sign_in(client):
    assert client.get("/accounts/password_change/").status_code == HTTPStatus.FOUND
