"""One log format at a time (JSON in production, text for the demo), and a favicon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def _serve_one_404(env: dict[str, str]) -> list[str]:
    """Configure logging as a process started with `env` would, log a 404 and a request line,
    and return what reached stdout and stderr."""
    script = (
        "import django, logging; django.setup();"
        "logging.getLogger('django.request').warning('Not Found: %s', '/nowhere');"
        "logging.getLogger('django.server').info('\"GET /nowhere HTTP/1.1\" 404 0');"
        "logging.getLogger('gunicorn.access').info('GET /');"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


def test_production_logs_are_json_once_each():
    lines = _serve_one_404({})
    records = [json.loads(line) for line in lines]  # every line is JSON, and each comes once
    assert [r["logger"] for r in records] == ["django.request", "django.server", "gunicorn.access"]


def test_demo_logs_are_text_once_each():
    lines = _serve_one_404({"DJANGO_DEBUG": "1"})
    assert len(lines) == 3, lines
    assert not any(line.startswith("{") for line in lines)
    assert "WARNING" in lines[0] and "django.request: Not Found: /nowhere" in lines[0]


def test_the_format_can_be_chosen():
    lines = _serve_one_404({"DJANGO_DEBUG": "1", "DJANGO_LOG_FORMAT": "json"})
    assert [json.loads(line)["level"] for line in lines] == ["WARNING", "INFO", "INFO"]


def test_gunicorn_logs_go_through_the_same_single_handler():
    from config.gunicorn import logconfig_dict

    for name, level in (("gunicorn.error", "INFO"), ("gunicorn.access", "WARNING")):
        assert logconfig_dict["loggers"][name] == {
            "handlers": [],
            "level": level,  # access lines come from the app's own "access" logger, once
            "propagate": True,
        }
    assert logconfig_dict["root"]["handlers"] == ["stdout"]


def test_favicon_is_served_at_the_root_without_sign_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}


def test_pages_link_the_favicon(client, board_member):
    client.force_login(board_member)
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").content.decode()
