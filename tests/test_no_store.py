"""Authenticated pages, exports and API answers are never cached (Cache-Control: no-store);
signing out tells the browser to clear the site's data."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services import token_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/", "/risks/", "/risks/R1/", "/reviews/", "/risks/export.csv", "/risks/export.xlsx"]
)
def test_signed_in_pages_and_exports_are_not_stored(client, board_member, seed, path):
    client.force_login(board_member)
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response["Pragma"] == "no-cache"


def test_api_answers_are_not_stored_with_a_token_or_without(auditor, seed):
    _, key = token_create(user=auditor, name="cache test")
    for client in (Client(HTTP_AUTHORIZATION=f"Token {key}"), Client()):
        for path in ("/api/v1/risks/", "/api/v1/risks/?format=csv"):
            response = client.get(path)
            assert "no-store" in response["Cache-Control"], (path, response.status_code)


def test_static_files_stay_cacheable(client):
    response = client.get("/favicon.ico")
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/accounts/logout/", "/accounts/logout-everywhere/"])
def test_signing_out_clears_the_site_data(client, board_member, path):
    client.force_login(board_member)
    response = client.post(path)
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
