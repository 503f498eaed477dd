"""make backup / make restore: a backup restored into an empty database gives the same
register and an intact trigger log. Runs the real commands on real, separate databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db

ACTIVITY = """
from django.contrib.auth.models import Group, User
from risks.models import Risk
from risks import services
from roadmap.models import Metric
from roadmap.services import metric_reading_record
staff = User.objects.create_user("sam", password="x-long-password-1")
staff.groups.add(Group.objects.get(name="Staff"))  # only Staff record trigger log entries
r3 = Risk.objects.get(code="R3")
services.risk_assess(risk=r3, likelihood=4, impact=5, rationale="Violence up.", user=staff)
services.contingency_invoke(risk=r3, user=staff, reason="Homicides up 20%.", evidence="INEGI")
services.contingency_update(risk=r3, user=staff, reason="Security aid released.")
services.contingency_stand_down(risk=r3, user=staff, reason="Back under threshold.")
services.risk_update(risk=Risk.objects.get(code="R2"), user=staff, title="Renamed R2")
metric_reading_record(metric=Metric.objects.first(), observed_on="2026-06-30", value=21,
                      source="Annual report", user=staff)
"""


def _urls():
    name = f"restore_{uuid.uuid4().hex[:8]}"
    if connection.vendor == "postgresql":
        base = "postgres://postgres@127.0.0.1:5432/"
        return base + name + "_a", base + name + "_b", name
    return f"sqlite:////tmp/{name}_a.sqlite3", f"sqlite:////tmp/{name}_b.sqlite3", name


def _manage(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _dump(url: str) -> dict[str, list]:
    out = _manage(
        url,
        "dumpdata",
        "-e",
        "contenttypes",
        "-e",
        "auth.permission",
        "-e",
        "sessions",
        "-e",
        "axes",
        "--natural-foreign",
        "--natural-primary",
    )
    by_model: dict[str, list] = {}
    for row in json.loads(out):
        by_model.setdefault(row["model"], []).append(row)
    return by_model


@pytest.fixture
def databases(tmp_path):
    source, target, name = _urls()
    if connection.vendor == "postgresql":
        _psql(f"CREATE DATABASE {name}_a")
        _psql(f"CREATE DATABASE {name}_b")
    yield source, target
    if connection.vendor == "postgresql":
        _psql(f"DROP DATABASE IF EXISTS {name}_a")
        _psql(f"DROP DATABASE IF EXISTS {name}_b")
    else:
        for url in (source, target):
            path = url.removeprefix("sqlite:///")
            if os.path.exists(path):
                os.remove(path)


def test_backup_restored_into_an_empty_database_is_the_same_register(databases, tmp_path):
    source, target = databases
    _manage(source, "migrate", "-v0")
    _manage(source, "seed_demo", "-v0")  # as `make demo` loads it, with baselines
    _manage(source, "shell", "-c", ACTIVITY)
    backup = tmp_path / "register.json.gz"
    _manage(source, "backup_register", "--output", str(backup))

    _manage(target, "migrate", "-v0")
    restored = _manage(target, "restore_register", str(backup))

    assert "Trigger log intact: 3 entries checked." in restored
    before, after = _dump(source), _dump(target)
    assert before.keys() == after.keys()
    for model, rows in before.items():
        assert after[model] == rows, model
    assert len(after["risks.risk"]) == 5
    assert after["risks.historicalrisk"]  # the change history came back too
    assert "Trigger log intact: 3 entries checked." in _manage(target, "verify_trigger_log")


def test_restore_refuses_a_database_that_is_not_empty(databases, tmp_path):
    source, _ = databases
    _manage(source, "migrate", "-v0")
    _manage(source, "loaddata", "roadmap", "-v0")
    backup = tmp_path / "register.json.gz"
    _manage(source, "backup_register", "--output", str(backup))
    env = {**os.environ, "DATABASE_URL": source}
    result = subprocess.run(
        [sys.executable, "manage.py", "restore_register", str(backup)],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "empty" in result.stderr
