"""make scale-test: two app servers on one PostgreSQL database, through PgBouncer in
transaction pooling mode, sharing one Redis, driven together over real HTTP.

1. Rebuilds a dedicated database (SCALE_DATABASE, default `scale_test`; its name must start
   with `scale`): migrate, the seed, generate_register, the test's users and their tokens.
2. Starts PgBouncer on a spare loopback port (its configuration in a temporary folder), in
   transaction pooling mode, with fewer server connections than the app servers have
   workers, so transactions really move between server connections.
3. Starts two gunicorn instances (config/gunicorn.py) on two spare ports, both through
   PgBouncer (DATABASE_POOLER=pgbouncer) and CACHE_URL=redis://127.0.0.1:6379/N with a key
   prefix of this run's own (SCALE_REDIS_DB, default 11).
4. Runs tests/scale/ against both, then stops everything and removes the folder. Exits
   non-zero on any failure, or on any traceback in either server's log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = Path(PYTHON).with_name("gunicorn")
POSTGRES = os.environ.get("SCALE_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("SCALE_DATABASE", "scale_test")
REDIS_DB = int(os.environ.get("SCALE_REDIS_DB", "11"))
RISKS = int(os.environ.get("SCALE_RISKS", "2500"))
WORKERS = int(os.environ.get("SCALE_WORKERS", "2"))
POOL_SIZE = 3  # server connections: fewer than the 2 x WORKERS clients
THROTTLE_LIMIT = 60  # API requests per user per hour; tests/scale checks it across servers
PASSWORD = "scale-test-password-2026"  # noqa: S105 - a throwaway database's users
# username, group
USERS = [
    ("scale.staff", "Staff"),
    ("scale.editor", "Staff"),
    ("scale.board", "Board"),
    ("scale.throttled", "Auditor"),
    ("scale.locked", "Board"),
]
PYTEST_ARGS = os.environ.get("SCALE_PYTEST_ARGS", "").split()
QUIET = "ignore:No directory at:UserWarning"


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(found).exists():
        sys.exit("pgbouncer is missing: apt-get install -y pgbouncer (make scale-test does)")
    return found


def redis_up() -> None:
    ping = subprocess.run(["redis-cli", "ping"], capture_output=True, text=True)  # noqa: S607
    if ping.stdout.strip() != "PONG":
        sys.exit("Redis does not answer on 127.0.0.1:6379 (redis-server --daemonize yes).")


def base_env(database_url: str, key: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "scale-test-" + "k" * 50,
        "TRIGGER_LOG_SIGNING_KEY_FILE": str(key),
        "API_THROTTLE_RATE": f"{THROTTLE_LIMIT}/hour",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": QUIET,
        # Staff sign in to the admin with a second factor once that lands; the test signs in
        # Board members only, and Staff use tokens.
        "DJANGO_MFA_REQUIRED": "0",
    }
    for name in ("DJANGO_DEBUG", "CACHE_URL", "DATABASE_POOLER", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


SETUP_USERS = """
import json, sys
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from accounts.services import token_create
users, password = json.loads(sys.argv[1]), sys.argv[2]
tokens = {}
for username, group in users:
    user = get_user_model().objects.create_user(username, f"{username}@example.gov", password)
    user.groups.set([Group.objects.get(name=group)])
    tokens[username] = token_create(user=user, name="scale test")[1]
print(json.dumps(tokens))
"""


def build_database(env: dict[str, str]) -> dict[str, str]:
    import psycopg

    if not re.fullmatch(r"scale[A-Za-z0-9_]*", DATABASE):
        sys.exit(f"SCALE_DATABASE must start with 'scale' (it is dropped): {DATABASE!r}")
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    # Migrations go straight to PostgreSQL, as an operator runs them; the app goes through
    # PgBouncer.
    for args in (
        ["migrate", "--noinput", "-v0"],
        ["loaddata", "roadmap", "-v0"],
        ["generate_register", "--risks", str(RISKS), "--seed", "1"],
    ):
        began = time.monotonic()
        manage(env, *args)
        print(f"== {DATABASE}: {' '.join(args[:3])} ({time.monotonic() - began:.0f} s)")
    script = [PYTHON, "-c", "import django; django.setup()\n" + SETUP_USERS]
    result = subprocess.run(  # noqa: S603
        [*script, json.dumps(USERS), PASSWORD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_pgbouncer(folder: Path, port: int) -> subprocess.Popen:
    host = POSTGRES.split("@")[-1]
    pg_host, pg_port = host.split(":")
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
{DATABASE} = host={pg_host} port={pg_port} dbname={DATABASE} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "userlist.txt"}
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options
logfile = {folder / "pgbouncer.log"}
pidfile = {folder / "pgbouncer.pid"}
"""
    )
    command = [pgbouncer_binary(), str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(folder, "postgres")
        for path in folder.iterdir():
            shutil.chown(path, "postgres")
        command[1:1] = ["-u", "postgres"]
    bouncer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return bouncer
        if bouncer.poll() is not None:
            break
        time.sleep(0.2)
    log = folder / "pgbouncer.log"
    sys.exit(f"PgBouncer did not start: {log.read_text() if log.exists() else ''}")


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    command = [
        str(GUNICORN),
        "config.wsgi",
        "--config",
        "python:config.gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--timeout",
        "120",
        "--error-logfile",
        str(log),
    ]
    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT
    )


def wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer /healthz; its log:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> int:
    started = time.monotonic()
    redis_up()
    pgbouncer_binary()
    folder = Path(tempfile.mkdtemp(prefix="scale-test-"))
    folder.chmod(0o755)
    try:
        failed = run(folder)
    except RuntimeError as error:
        print(f"== {error}")
        failed = True
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        drop_database()
    verdict = "FAILED" if failed else "passed"
    print(f"== make scale-test {verdict} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def run(folder: Path) -> bool:
    """Everything between building the database and dropping it; True if anything failed."""
    key = folder / "trigger-log.pem"
    direct = f"{POSTGRES}/{DATABASE}"
    manage(base_env(direct, key), "create_trigger_log_key", str(key))
    tokens = build_database(base_env(direct, key))

    processes: list[subprocess.Popen] = []
    logs = [folder / "gunicorn-a.log", folder / "gunicorn-b.log"]
    try:
        bouncer_port = spare_port()
        processes.append(start_pgbouncer(folder, bouncer_port))
        pooled = f"postgres://postgres@127.0.0.1:{bouncer_port}/{DATABASE}"
        prefix = f"scale-{os.getpid()}-{int(time.time())}"
        cache_url = f"redis://127.0.0.1:6379/{REDIS_DB}?key_prefix={prefix}"
        app_env = {**base_env(pooled, key), "DATABASE_POOLER": "pgbouncer", "CACHE_URL": cache_url}
        urls = []
        for log in logs:
            port = spare_port()
            processes.append(start_gunicorn(app_env, port, log))
            urls.append(f"http://127.0.0.1:{port}")
        for url, server, log in zip(urls, processes[1:], logs, strict=True):
            wait_for(url, server, log)
        print(
            f"== PgBouncer :{bouncer_port} (transaction pooling, {POOL_SIZE} server "
            f"connections) -> {DATABASE}; gunicorn {' and '.join(urls)}, {WORKERS} workers "
            f"each; {cache_url}"
        )
        test_env = {
            **app_env,
            "SCALE_SERVERS": ",".join(urls),
            "SCALE_TOKENS": json.dumps(tokens),
            "SCALE_PASSWORD": PASSWORD,
            "SCALE_REGISTER_SIZE": str(RISKS + 5),  # and the seed's five
            "SCALE_THROTTLE_LIMIT": str(THROTTLE_LIMIT),
            "SCALE_SIGNING_KEY": str(key),
        }
        result = subprocess.run(  # noqa: S603
            [PYTHON, "-m", "pytest", "tests/scale", "-m", "scale", "-v", *PYTEST_ARGS],
            cwd=ROOT,
            env=test_env,
        )
        failed = result.returncode != 0
    finally:
        for process in reversed(processes):
            stop(process)
    for log in logs:
        text = log.read_text() if log.exists() else ""
        if "Traceback" in text:
            print(f"== A traceback in {log.name}:\n{text[-4000:]}")
            failed = True
    return failed


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
