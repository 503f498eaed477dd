"""Each user's permissions are kept in the shared cache (accounts/backends.py): a page asks
the database for them once, and any change to who may do what is seen on the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def _permission_queries(client, path: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    return status, sum("auth_permission" in q["sql"] for q in queries.captured_queries)


def test_a_second_page_reads_no_permissions(
    client, board_member, seed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # as in production: kept once committed
        client.force_login(board_member)
    assert _permission_queries(client, "/heatmap/") == (200, 2)
    assert _permission_queries(client, "/heatmap/") == (200, 0)


def test_leaving_a_group_is_seen_at_once(client, board_member, seed):
    client.force_login(board_member)
    assert client.get("/heatmap/").status_code == 200
    board_member.groups.remove(Group.objects.get(name="Board"))
    assert client.get("/heatmap/").status_code == 403


def test_a_permission_taken_from_the_group_is_seen_at_once(client, staff_member, seed):
    client.force_login(staff_member)
    assert client.get("/admin/risks/risk/add/").status_code == 200
    staff = Group.objects.get(name="Staff")
    staff.permissions.remove(staff.permissions.get(codename="add_risk"))
    assert client.get("/admin/risks/risk/add/").status_code == 403


def test_a_deactivated_user_is_signed_out(client, board_member, seed):
    client.force_login(board_member)
    assert client.get("/heatmap/").status_code == 200
    board_member.is_active = False
    board_member.save()
    assert client.get("/heatmap/").status_code == 302
