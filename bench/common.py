"""What the benchmark and the load test share: the bench database, its users, the machine.

The bench database is PostgreSQL only. A database whose name starts with `bench` is ours:
it is dropped and rebuilt (migrate, the seed, generate_register) when it lacks the
generated risks. Any other database is used only if it already holds them, never dropped.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"
SEED = 1
# The API throttle (2000/hour per user by default) would answer 429 long before a
# benchmark ends; the check itself still runs on every request.
THROTTLE = "1000000/hour"
BOARD, AUDITOR, ADMIN = "bench.board", "bench.auditor", "bench.admin"


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql", "psql"):
        sys.exit(f"The benchmarks need PostgreSQL; DATABASE_URL is {url!r}.")
    return url


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


def _psycopg_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def generated_risks(url: str) -> int | None:
    """How many generated (G...) risks the database holds; None if it does not exist."""
    import psycopg

    name = database_name(url)
    with psycopg.connect(_psycopg_url(_maintenance_url(url)), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not exists:
        return None
    with psycopg.connect(_psycopg_url(url)) as conn:
        table = conn.execute("SELECT to_regclass('risks_risk')").fetchone()[0]
        if table is None:
            return 0
        return conn.execute("SELECT count(*) FROM risks_risk WHERE code ~ '^G[0-9]+$'").fetchone()[
            0
        ]


def signing_key() -> None:
    """Trigger log entries are signed, as in production: the benchmarks keep a key of their
    own (unless TRIGGER_LOG_SIGNING_KEY_FILE names one), created once."""
    if os.environ.get("TRIGGER_LOG_SIGNING_KEY_FILE"):
        return
    key = ROOT / ".keys" / "trigger-log-bench.pem"
    if not key.exists():
        command = [PYTHON, "manage.py", "create_trigger_log_key", str(key)]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    os.environ["TRIGGER_LOG_SIGNING_KEY_FILE"] = str(key)


def manage(url: str, *args: str) -> None:
    signing_key()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "API_THROTTLE_RATE": THROTTLE,
        "PYTHONWARNINGS": QUIET,
    }
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def prepare_database(url: str, risks: int, *, rebuild: bool = False) -> float | None:
    """Make sure `url` holds the seed and `risks` generated risks. Returns the seconds
    generate_register took when it ran, None when the data were already there."""
    import psycopg

    name = database_name(url)
    have = generated_risks(url)
    ours = name.startswith("bench") or name.endswith("_bench")
    if have is not None and have >= risks and not rebuild:
        manage(url, "migrate", "--noinput", "-v0")
        return None
    if not ours:
        sys.exit(
            f"{name!r} lacks {risks} generated risks and is not a bench database: "
            "point DATABASE_URL at a database named bench... or ..._bench (it will be dropped "
            "and rebuilt)."
        )
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        sys.exit(f"Unexpected database name {name!r}.")
    print(f"Building {name}: drop, create, migrate, loaddata roadmap, {risks} risks...")
    with psycopg.connect(_psycopg_url(_maintenance_url(url)), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage(url, "migrate", "--noinput", "-v0")
    manage(url, "loaddata", "roadmap", "-v0")
    started = time.perf_counter()
    manage(url, "generate_register", "--risks", str(risks), "--seed", str(SEED))
    elapsed = time.perf_counter() - started
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return elapsed


# WhiteNoise warns when collectstatic has not run; the benchmarks serve from the finders.
QUIET = "ignore:No directory at:UserWarning"


def django_setup(url: str) -> None:
    import warnings

    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    signing_key()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["API_THROTTLE_RATE"] = THROTTLE
    # As production runs with several app servers: a shared cache (Redis), so answers are
    # kept until the next write (STATE_CACHE). BENCH_CACHE_URL="locmemcache://" measures
    # without them.
    os.environ["CACHE_URL"] = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def bench_users():
    """A board member, an auditor with an API token and a superuser (unusable passwords:
    the benchmarks sign them in directly)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.services import token_create

    User = get_user_model()
    users = {}
    roles = [(BOARD, "Board", False), (AUDITOR, "Auditor", False), (ADMIN, None, True)]
    for username, group, superuser in roles:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"is_staff": superuser or group == "Auditor", "is_superuser": superuser},
        )
        if created:
            user.set_unusable_password()
            user.save()
        if group:
            user.groups.set([Group.objects.get(name=group)])
        users[username] = user
    _, key = token_create(user=users[AUDITOR], name="bench")
    return users, key


def sign_in(client, user) -> None:
    """A session for `user`, with the second factor shown when the user needs one (staff
    and superusers, DJANGO_MFA_REQUIRED): a confirmed TOTP device of the bench's own, as
    after the verification page. Without it the admin answers with a redirect."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.mfa import mfa_required_for

    client.force_login(user)
    if mfa_required_for(user):
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "revision": revision or "unknown",
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
    }


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return "PostgreSQL " + cursor.fetchone()[0]


def replace_section(path: Path, name: str, body: str) -> None:
    """Rewrite the text between `<!-- name:start -->` and `<!-- name:end -->` in `path`,
    leaving the hand-written analysis around it alone."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    if start not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body.strip()}\n{end}{tail}")
