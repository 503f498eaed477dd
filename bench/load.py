"""make load: gunicorn on a loopback port over the bench database, driven by wrk.

Serves the app as `make serve` does (gunicorn, debug off, WhiteNoise), then drives
/api/v1/risks/ (token header) and /heatmap/ (board members' session cookies) from wrk, a
separate process, for a fixed time and a fixed number of connections each. Reports
throughput, p50, p90, p99 and errors (any answer other than 200 counts as one) to stdout
and docs/benchmarks.md (section `load`); exits non-zero if there was any error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BOARD,
    QUIET,
    ROOT,
    THROTTLE,
    bench_users,
    database_url,
    django_setup,
    machine,
    postgres_version,
    prepare_database,
    replace_section,
)

DOC = ROOT / "docs" / "benchmarks.md"
GUNICORN = Path(sys.executable).with_name("gunicorn")


def sessions(count: int) -> list[str]:
    """Session cookies of the board member, as many as wrk will take in turn."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.get(username=BOARD)
    cookies = []
    for _ in range(count):
        client = Client()
        client.force_login(user)
        cookies.append(
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
    return cookies


def get(port: int, path: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def serve(url: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "API_THROTTLE_RATE": THROTTLE,
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": QUIET,
    }
    env.pop("DJANGO_DEBUG", None)
    # Debug off: the server refuses the development secret key, so the run gets its own.
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    command = [
        str(GUNICORN),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "60",
        "--error-logfile",
        str(log),
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz", {}) == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not answer on port {port}; see {log}")


def drive(port, path, header, values, *, threads, connections, duration) -> dict:
    env = {
        **os.environ,
        "LOAD_HEADER_NAME": header,
        "LOAD_HEADER_VALUES": "|".join(values),
    }
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "load.lua"),
        f"http://127.0.0.1:{port}{path}",
    ]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    summary["errors"] = sum(summary[k] for k in ("not_200", "connect", "read", "write", "timeout"))
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=30, help="Seconds per endpoint.")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--risks", type=int, default=10_000)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")

    started = machine()
    url = database_url()
    prepare_database(url, args.risks)
    django_setup(url)
    _, token = bench_users()
    cookies = sessions(args.connections)
    scenarios = [
        ("/api/v1/risks/", "Authorization", [f"Token {token}"]),
        ("/heatmap/", "Cookie", cookies),
    ]

    log = Path(tempfile.mkdtemp(prefix="bench-load-")) / "gunicorn.log"
    server = serve(url, args.port, args.workers, log)
    results = []
    try:
        for path, header, values in scenarios:
            status = get(args.port, path, {header: values[0]})
            if status != 200:
                sys.exit(f"{path} answered {status} before the run: check the credentials.")
            for _ in range(args.workers * 3):  # every worker imports and connects first
                get(args.port, path, {header: values[0]})
            summary = drive(
                args.port,
                path,
                header,
                values,
                threads=args.threads,
                connections=args.connections,
                duration=args.duration,
            )
            results.append((path, header, summary))
            print(
                f"{path:<16} {summary['rps']:7.1f} req/s  p50 {summary['p50_us'] / 1000:6.1f} ms"
                f"  p99 {summary['p99_us'] / 1000:6.1f} ms  errors {summary['errors']}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    tracebacks = log.read_text().count("Traceback") if log.exists() else 0

    report = render(results, args, url, tracebacks, started)
    print(report)
    if not args.no_doc:
        replace_section(DOC, "load", report)
    if tracebacks or any(summary["errors"] for _, _, summary in results):
        sys.exit(f"Errors under load; gunicorn's log: {log}")


def render(results, args, url, tracebacks, started) -> str:
    info = machine()
    persistent = "conn_max_age" in url
    connections = (
        "from DATABASE_URL" if persistent else "0 (the default: a new connection per request)"
    )
    lines = [
        f"Measured {info['date']} on {info['cpus']} x {info['cpu']}, {info['ram']} RAM, "
        f"{postgres_version()}. gunicorn, {args.workers} sync workers (as `make serve`: "
        f"2 x CPUs + 1), debug off, CONN_MAX_AGE "
        f"{connections}"
        f"; wrk, {args.threads} threads, {args.connections} connections, {args.duration} s per "
        f"endpoint, on the same machine. API throttle raised to {THROTTLE}.",
        "",
        "| endpoint | auth | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for path, header, s in results:
        auth = "token" if header == "Authorization" else "session cookie"
        lines.append(
            f"| `{path}` | {auth} | {s['requests']:,} | {s['rps']:.1f} | {s['p50_us'] / 1000:.1f} "
            f"| {s['p90_us'] / 1000:.1f} | {s['p99_us'] / 1000:.1f} | {s['max_us'] / 1000:.1f} "
            f"| {s['errors']} |"
        )
    lines += [
        "",
        f"Tracebacks in gunicorn's error log: {tracebacks}. Code `{info['revision']}`; load "
        f"average (1, 5, 15 min) {started['load']} at the start, {info['load']} at the end "
        "(the machine is shared).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
