"""Production settings pass Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DJANGO_SECRET_KEY": "x" * 20 + "production-secret-key-of-sufficient-length-and-variety-0123",
    "DJANGO_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "risk.example.gov",
    "DJANGO_DEBUG": "0",
}


def _without_test_switches(environ) -> dict:
    # The browser tests allow the ORM inside Playwright's loop; production never does.
    return {k: v for k, v in environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**_without_test_switches(os.environ), **PRODUCTION},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked(settings):
    assert settings.DEBUG is False


def _without_signing_key(environ) -> dict:
    return {
        k: v
        for k, v in _without_test_switches(environ).items()
        if k != "TRIGGER_LOG_SIGNING_KEY_FILE"
    }


def test_check_deploy_flags_a_missing_trigger_log_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env={**_without_signing_key(os.environ), **PRODUCTION},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "common.E001" in result.stderr and "TRIGGER_LOG_SIGNING_KEY_FILE" in result.stderr


def test_the_server_refuses_to_start_without_a_key():
    # gunicorn and runserver load config.wsgi, which loads the key before serving.
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        env={**_without_signing_key(os.environ), **PRODUCTION},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured" in result.stderr and "TRIGGER_LOG_SIGNING_KEY_FILE" in result.stderr
    )


def _without_secret_key(environ) -> dict:
    return {k: v for k, v in _without_test_switches(environ).items() if k != "DJANGO_SECRET_KEY"}


def test_the_server_refuses_to_start_on_the_development_secret_key():
    production = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    for entry in ("config.wsgi", "config.asgi"):
        result = subprocess.run(
            [sys.executable, "-c", f"import {entry}"],
            env={**_without_secret_key(os.environ), **production},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0, entry
        assert "ImproperlyConfigured" in result.stderr
        assert "DJANGO_SECRET_KEY is not set and DJANGO_DEBUG is off" in result.stderr
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env={**_without_secret_key(os.environ), **production},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode != 0 and "common.E003" in check.stderr


def test_gunicorn_believes_x_forwarded_proto_only_from_this_machine():
    from config.gunicorn import forwarded_allow_ips

    assert forwarded_allow_ips == "127.0.0.1"
