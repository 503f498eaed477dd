"""API tokens: named, hashed, expiring, last-used; revoked by owner, admin and sign-out."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import token_create

pytestmark = pytest.mark.django_db

RISKS = "/api/v1/risks/"


def _get(client, key):
    return client.get(RISKS, headers={"authorization": f"Token {key}"})


def test_a_token_has_a_name_a_creation_date_an_expiry_and_is_stored_hashed(auditor, settings):
    token, key = token_create(user=auditor, name="GAO pull")
    token.refresh_from_db()
    assert token.name == "GAO pull"
    assert token.created is not None
    expected = timezone.now() + datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS)
    assert abs(token.expiry - expected) < datetime.timedelta(minutes=1)
    assert settings.API_TOKEN_TTL_DAYS == 90
    assert key not in {token.digest, token.token_key}
    assert not ApiToken.objects.filter(digest=key).exists()


def test_a_token_works_in_the_header_and_records_its_last_use(client, auditor):
    token, key = token_create(user=auditor, name="pull")
    assert token.last_used_at is None
    assert _get(client, key).status_code == HTTPStatus.OK
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_an_expired_token_answers_401(client, auditor):
    token, key = token_create(user=auditor, name="old")
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - datetime.timedelta(1))
    response = _get(client, key)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["content-type"].startswith("application/")


def test_a_revoked_token_answers_401(client, auditor):
    token, key = token_create(user=auditor, name="gone")
    assert _get(client, key).status_code == HTTPStatus.OK
    web = Client()
    web.force_login(auditor)
    assert web.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == HTTPStatus.FOUND
    assert _get(client, key).status_code == HTTPStatus.UNAUTHORIZED


def test_a_key_that_is_not_utf8_answers_401_not_500(client):
    response = client.get(RISKS, headers={"authorization": "Token \xff\xfe"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_the_lifetime_is_configurable(auditor, settings):
    token, _ = token_create(user=auditor, name="short", days=7)
    assert token.expiry - token.created < datetime.timedelta(days=7, minutes=1)


def test_sign_out_everywhere_revokes_every_token(client, board_member):
    _, key = token_create(user=board_member, name="laptop script")
    web = Client()
    web.force_login(board_member)
    web.post("/accounts/logout-everywhere/")
    assert not ApiToken.objects.filter(user=board_member).exists()
    assert _get(client, key).status_code == HTTPStatus.UNAUTHORIZED
