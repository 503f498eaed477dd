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
