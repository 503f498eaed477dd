"""Shared fixtures: the personas every permission test speaks of."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.factories import UserFactory


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
    call_command("loaddata", "roadmap", verbosity=0)


@pytest.fixture
def staff_client(client, staff_member):
    client.force_login(staff_member)
    return client
