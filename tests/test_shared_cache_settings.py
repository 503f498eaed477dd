"""Several app servers (README "Operations"): CACHE_URL picks the cache they share, and
DATABASE_POOLER=pgbouncer turns off server-side cursors, which transaction pooling breaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; print(json.dumps([s.CACHES['default'], "
    "d['DISABLE_SERVER_SIDE_CURSORS'], s.SESSION_ENGINE, s.AXES_HANDLER, s.STATE_CACHE]))"
)


def _settings(**environ) -> list:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **environ}
    for name in ("CACHE_URL", "DATABASE_POOLER"):
        if name not in environ:
            env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-500:]
    return json.loads(result.stdout)


def test_by_default_one_process_memory_and_server_side_cursors():
    cache, no_cursors, sessions, axes, kept = _settings()
    assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert no_cursors is False
    # One process's memory cannot hear another process's writes: no answer is kept in it.
    assert kept is False
    # Sessions and lockouts are in the database, which every instance shares.
    assert sessions == "django.contrib.sessions.backends.db"
    assert axes == "accounts.lockout.LockoutHandler"


@pytest.mark.parametrize("value", ["", "  ", "locmemcache://"])
def test_an_empty_cache_url_is_the_default_local_memory(value):
    cache, *_ = _settings(CACHE_URL=value)
    assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_redis_url_goes_through_django_redis_with_its_key_prefix():
    cache, *_, kept = _settings(CACHE_URL="redis://127.0.0.1:6379/11?key_prefix=app")
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert kept is True  # a shared cache carries every writer's version: answers are kept
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/11"
    assert cache["KEY_PREFIX"] == "app"


@pytest.mark.parametrize(("pooler", "off"), [("pgbouncer", True), (" ", False)])
def test_pgbouncer_turns_server_side_cursors_off(pooler, off):
    _, no_cursors, *_ = _settings(DATABASE_POOLER=pooler)
    assert no_cursors is off
