"""The owner's token page and the administrator's token admin."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from accounts.models import ApiToken
from accounts.services import token_create

pytestmark = pytest.mark.django_db


def test_the_owner_creates_a_token_and_sees_the_key_once(client, board_member):
    client.force_login(board_member)
    response = client.post("/accounts/tokens/", {"name": "quarterly pull", "days": "30"})
    assert response.status_code == HTTPStatus.OK
    key = response.context["new_key"]
    assert key and key in response.content.decode()
    token = ApiToken.objects.get(user=board_member)
    assert token.name == "quarterly pull"

    page = client.get("/accounts/tokens/").content.decode()
    assert "quarterly pull" in page
    assert key not in page
    assert token.token_key not in page


def test_the_page_lists_only_the_owners_tokens(client, board_member, auditor):
    token_create(user=auditor, name="auditor's own")
    token_create(user=board_member, name="board's own")
    client.force_login(board_member)
    page = client.get("/accounts/tokens/").content.decode()
    assert "board&#x27;s own" in page
    assert "auditor&#x27;s own" not in page


def test_nobody_revokes_someone_elses_token(client, board_member, auditor):
    token, _ = token_create(user=auditor, name="not yours")
    client.force_login(board_member)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_a_bad_name_writes_nothing(client, board_member):
    client.force_login(board_member)
    response = client.post("/accounts/tokens/", {"name": "", "days": "0"})
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_token_page_needs_sign_in(client):
    assert client.get("/accounts/tokens/").status_code == HTTPStatus.FOUND


def test_an_administrator_lists_and_revokes_any_token_without_seeing_keys(admin_client, auditor):
    token, key = token_create(user=auditor, name="GAO pull")
    page = admin_client.get("/admin/accounts/apitoken/").content.decode()
    assert "GAO pull" in page
    assert key not in page and token.digest not in page
    response = admin_client.post(
        "/admin/accounts/apitoken/",
        {"action": "delete_selected", "_selected_action": [token.pk], "post": "yes"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not ApiToken.objects.exists()


def test_staff_without_the_permission_cannot_see_the_token_admin(client, staff_member):
    client.force_login(staff_member)
    assert client.get("/admin/accounts/apitoken/").status_code == HTTPStatus.FORBIDDEN


def test_the_menu_links_tokens_password_and_api_docs(client, auditor):
    client.force_login(auditor)
    page = client.get("/").content.decode()
    for href in ("/accounts/tokens/", "/accounts/password_change/", "/api/docs/"):
        assert f'href="{href}"' in page
