"""Shared fixtures: the personas every permission test speaks of."""

from __future__ import annotations

import importlib
import io

import pytest
from django.core.management import call_command
from django.db import connection

from risks.groups import GROUP_PERMISSIONS, groups_sync
from risks.models import RatingBand
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def reference_data(request):
    """Groups and the rating scale come from data migrations; a transactional test's flush
    removes them, so put them back (idempotently) before any test that uses the database."""
    if request.node.get_closest_marker("django_db") is None and not {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps
    from django.contrib.auth.models import Group

    if Group.objects.filter(name__in=GROUP_PERMISSIONS).count() < len(GROUP_PERMISSIONS):
        groups_sync(apps)
    if not RatingBand.objects.exists():
        scale = importlib.import_module("risks.migrations.0002_default_rating_scale")
        scale.create_scale(apps, None)
    yield
    _clear_trigger_log_for_sqlite_flush(request)


def _clear_trigger_log_for_sqlite_flush(request) -> None:
    """After a transactional test Django empties every table; on SQLite with DELETE, which
    the trigger log's own database trigger refuses. Lift it for the cleanup, then restore."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional or connection.vendor != "sqlite":
        return
    append_only = importlib.import_module("risks.migrations.0005_trigger_log_append_only")
    with connection.cursor() as cursor:
        for sql in append_only.SQLITE_UNPROTECT:
            cursor.execute(sql)
        cursor.execute("DELETE FROM risks_triggerentry")
        for sql in append_only.SQLITE_PROTECT:
            cursor.execute(sql)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_member(db):
    return UserFactory(username="sam.staff", is_staff=True, groups=["Staff"])


@pytest.fixture
def board_member(db):
    return UserFactory(username="bea.board", groups=["Board"])


@pytest.fixture
def auditor(db):
    return UserFactory(username="al.auditor", is_staff=True, groups=["Auditor"])


@pytest.fixture
def outsider(db):
    """Signed in, but in no group."""
    return UserFactory(username="oscar.outsider")


@pytest.fixture
def seed(db):
    """The seed document, loaded as `make demo` loads it: with its baseline history."""
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())


@pytest.fixture
def staff_client(client, staff_member):
    client.force_login(staff_member)
    return client
