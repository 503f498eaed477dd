"""Who must show a second factor is kept in the shared cache (accounts/mfa.py), and is never
stale: a device enrolled or removed, a group joined, is seen on the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import mfa_device

pytestmark = [pytest.mark.django_db, pytest.mark.mfa_unverified]


def _device_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get("/heatmap/").status_code
    return status, sum(
        "otp_totp_totpdevice" in q["sql"] or "webauthncredential" in q["sql"]
        for q in queries.captured_queries
    )


def test_the_second_page_asks_nothing_about_devices(
    client, board_member, seed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.force_login(board_member)
    assert _device_queries(client) == (200, 2)
    assert _device_queries(client) == (200, 0)


def test_a_device_enrolled_elsewhere_is_asked_for_at_once(client, board_member, seed):
    client.force_login(board_member)
    assert client.get("/heatmap/").status_code == 200
    mfa_device(board_member)  # confirmed in another session
    response = client.get("/heatmap/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/verify/")


def test_joining_staff_requires_a_second_factor_at_once(client, board_member, seed, settings):
    settings.MFA_REQUIRED = True
    client.force_login(board_member)
    assert client.get("/heatmap/").status_code == 200
    board_member.groups.add(Group.objects.get(name="Staff"))
    response = client.get("/heatmap/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/")
