"""`make token USER=<username>` (and the management command behind it) prints a working
token as its last line."""

from __future__ import annotations

import os
import subprocess
from http import HTTPStatus
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_the_command_prints_a_key_that_authenticates(client, auditor):
    out = StringIO()
    call_command("create_token", auditor.username, "--name", "GAO", stdout=out, stderr=StringIO())
    key = out.getvalue().strip().splitlines()[-1]
    assert ApiToken.objects.get(user=auditor).name == "GAO"
    response = client.get("/api/v1/risks/", headers={"authorization": f"Token {key}"})
    assert response.status_code == HTTPStatus.OK


def test_the_first_contracts_command_name_still_works(auditor):
    out = StringIO()
    call_command("drf_create_token", auditor.username, stdout=out, stderr=StringIO())
    assert len(out.getvalue().strip().splitlines()[-1]) == 64


def test_an_unknown_user_is_a_clear_error():
    with pytest.raises(CommandError, match="No user named"):
        call_command("create_token", "nobody", stdout=StringIO(), stderr=StringIO())


def test_make_token_prints_the_key_last(tmp_path):
    database = f"sqlite:///{tmp_path / 'token.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": database}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run(
        [".venv/bin/python", "manage.py", "migrate", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
    )
    subprocess.run(
        [
            ".venv/bin/python",
            "-c",
            "import django; django.setup(); from django.contrib.auth.models import User; "
            "User.objects.create_user('auditor')",
        ],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True,
    )
    result = subprocess.run(
        ["make", "--no-print-directory", "token", "USER=auditor"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    last = result.stdout.strip().splitlines()[-1]
    assert len(last) == 64 and all(c in "0123456789abcdef" for c in last)


def test_make_token_without_user_says_how(tmp_path):
    result = subprocess.run(
        ["make", "--no-print-directory", "token"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
    )
    assert result.returncode != 0
    assert "usage: make token USER=" in result.stdout + result.stderr
