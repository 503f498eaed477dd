"""/api/docs/ is a page for people: an anonymous visitor is sent to sign in and back."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from tests.conftest import mfa_device, totp_now

pytestmark = pytest.mark.django_db


def test_anonymous_docs_redirect_to_sign_in_and_back(client):
    response = client.get("/api/docs/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["location"] == "/accounts/login/?next=/api/docs/"


def test_after_sign_in_the_visitor_lands_on_the_docs(client, auditor):
    device = mfa_device(auditor)
    response = client.post(
        "/accounts/login/?next=/api/docs/",
        {"username": auditor.username, "password": "correct-horse-battery", "next": "/api/docs/"},
    )
    assert response["location"] == "/api/docs/"
    # An auditor uses the admin, so a second factor comes first, and then the docs.
    response = client.get("/api/docs/")
    assert response["location"] == "/accounts/mfa/verify/?next=%2Fapi%2Fdocs%2F"
    code = totp_now(device)
    response = client.post("/accounts/mfa/verify/", {"code": code, "next": "/api/docs/"})
    assert response["location"] == "/api/docs/"
    assert client.get("/api/docs/").status_code == HTTPStatus.OK


def test_the_schema_still_answers_401_in_json_to_an_anonymous_program(client):
    response = client.get("/api/schema/")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "Token" in response["www-authenticate"]
