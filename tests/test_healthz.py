from __future__ import annotations

import os
import subprocess
import sys
from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok"}


UNREACHABLE = {
    "postgresql": "postgres://postgres@127.0.0.1:1/nowhere",
    "sqlite": "sqlite:////nonexistent-dir/unreachable.sqlite3",
}

PROBE = """
import django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(response.status_code, response.json()["database"])
"""


def test_healthz_is_503_when_the_database_does_not_answer():
    # A real unreachable database, in a separate process so this one keeps its own.
    env = {**os.environ, "DATABASE_URL": UNREACHABLE[connection.vendor]}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["503", "unreachable"]
