"""Shared fixtures: the personas every permission test speaks of."""

from __future__ import annotations

import importlib
import io
import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from common import signing
from risks.groups import GROUP_PERMISSIONS, groups_sync
from risks.models import RatingBand
from tests.factories import UserFactory
from tests.openapi_check import CHECKED_PREFIX, check


@pytest.fixture(scope="session", autouse=True)
def trigger_log_signing_key(tmp_path_factory):
    """The tests' own Ed25519 key, as TRIGGER_LOG_SIGNING_KEY_FILE names one in production;
    in the environment too, for the commands that tests run in a subprocess."""
    path = tmp_path_factory.mktemp("keys") / "trigger-log-test.pem"
    signing.create_key_file(path)
    settings.TRIGGER_LOG_SIGNING_KEY_FILE = str(path)
    os.environ["TRIGGER_LOG_SIGNING_KEY_FILE"] = str(path)
    signing.forget_loaded_key()
    yield path
    signing.forget_loaded_key()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: remembered tokens, grids and throttle counters
    of an earlier test (whose database rows were rolled back) do not leak into it."""
    from django.core.cache import cache

    cache.clear()
    yield


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

    _trigger_log_guarded()
    if Group.objects.filter(name__in=GROUP_PERMISSIONS).count() < len(GROUP_PERMISSIONS):
        groups_sync(apps)
    if not RatingBand.objects.exists():
        scale = importlib.import_module("risks.migrations.0002_default_rating_scale")
        scale.create_scale(apps, None)
    yield
    _trigger_log_open_for_flush(request)


SIGNED_HEADS = importlib.import_module("risks.migrations.0011_trigger_log_signed_heads")


def _trigger_log_guarded() -> None:
    """Every test starts with the trigger log's database guards on: after a transactional
    test's flush (below) they are put back (on SQLite, inside the test's transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for sql in SIGNED_HEADS.SQLITE_PROTECT:
                cursor.execute(sql)
        else:
            cursor.execute(f"SET {SIGNED_HEADS.TRUNCATE_SETTING} = 'deny'")


def _trigger_log_open_for_flush(request) -> None:
    """After a transactional test Django empties every table: DELETE on SQLite, which the
    trigger log's own database triggers refuse, and TRUNCATE on PostgreSQL, which they refuse
    unless the session allows it. Open both for the flush; the next test closes them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for sql in SIGNED_HEADS.SQLITE_UNPROTECT:
                cursor.execute(sql)
        else:
            cursor.execute(f"SET {SIGNED_HEADS.TRUNCATE_SETTING} = 'allow'")


@pytest.fixture(autouse=True)
def api_answers_match_the_schema(monkeypatch):
    """Every /api/v1/ answer the Django test client receives is checked against the OpenAPI
    schema (tests/openapi_check.py); the live-server client checks its own."""
    from django.test import Client

    request = Client.request

    def checked(self, **environ):
        response = request(self, **environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith(CHECKED_PREFIX):
            if response.streaming:
                body = b"".join(response.streaming_content)
                response.streaming_content = [body]
            else:
                body = response.content
            query = environ.get("QUERY_STRING", "")
            check(
                method=environ["REQUEST_METHOD"],
                url=path + (f"?{query}" if query else ""),
                status=response.status_code,
                headers=response.headers,
                body=body,
            )
        return response

    monkeypatch.setattr(Client, "request", checked)


@pytest.fixture(autouse=True)
def mfa_verified_force_login(request, monkeypatch):
    """The settings load with debug off, so a second factor is required here as in production.
    `client.force_login` is the suite's shortcut past the sign-in form; it also passes the
    second factor: a user who needs one gets a confirmed TOTP device and a session verified
    by it. Tests of the second factor itself sign in with `client.login` or the form, or use
    the `mfa_unverified` marker."""
    if request.node.get_closest_marker("mfa_unverified"):
        return
    from django.test import Client

    force_login = Client.force_login

    def verified(self, user, backend=None):
        force_login(self, user, backend)
        from django_otp import DEVICE_ID_SESSION_KEY

        from accounts.mfa import mfa_required_for

        if mfa_required_for(user):
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = mfa_device(user).persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", verified)


def mfa_device(user):
    """A confirmed TOTP device for `user` (pyotp reads its secret: `totp_now(device)`)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def totp_now(device) -> str:
    import base64

    import pyotp

    return pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()


@pytest.fixture(autouse=True)
def kept_answers(settings):
    """The suite is one process, so its local-memory cache is shared by every request it
    makes: answers are kept as they are in production with Redis (settings.STATE_CACHE)."""
    settings.STATE_CACHE = True


@pytest.fixture(autouse=True)
def empty_rate_limits():
    """Per-operation limits (exports, contingencies) count per user id in the cache; ids come
    back after a rollback, so each test starts with no calls counted."""
    from django.core.cache import cache

    cache.clear()


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
