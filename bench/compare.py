"""make bench-compare: this tree against an older commit, side by side at 10,000 risks.

Issue 10 asks that no page or endpoint be more than 20% slower than at 87271a0. Load on a
shared machine moves every number, so the two trees are measured in turns, in the same
minutes: a git worktree of BASE (`.bench-base/`, the same .venv), its own database built by
its own generator with the same seed (`bench_base`), and this tree on `bench`. Each round runs
one process per tree, one after the other (base first in even rounds, this tree first in odd
ones, so a drift of the machine's speed cancels; one hash seed for all, as two processes of
the same code can differ by a quarter), each endpoint
2 warm-ups then `--repeats` requests through django.test.Client; the table gives the median
over the rounds of each round's median, wall and CPU (time.process_time: the worker's own
work, the steadier number when the machine is busy), and the queries of one request.

This tree runs as production does with several workers: CACHE_URL on Redis
(redis://127.0.0.1:6379/15 unless BENCH_CACHE_URL says otherwise), so STATE_CACHE is on.
`BASE` had no shared cache to use. Results go to docs/benchmarks.md (section `compare`)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, machine, prepare_database, replace_section

DOC = ROOT / "docs" / "benchmarks.md"
BASE_DIR = ROOT / ".bench-base"
DAY = "2025-12-03"

# (name, path, who): paths that mean the same page or answer in both trees.
ENDPOINTS = [
    ("healthz", "/healthz", "anon"),
    ("phases", "/api/v1/phases/", "api"),
    ("heatmap JSON", "/api/v1/heatmap/", "api"),
    ("heatmap page", "/heatmap/", "board"),
    ("dashboard", "/", "board"),
    ("risk page", "/risks/G05000/", "board"),
    ("risk page as of", f"/risks/G05000/?as_of={DAY}", "board"),
    ("100 risks", "/api/v1/risks/?page_size=100", "api"),
    ("risks as of", f"/api/v1/risks/?as_of={DAY}", "api"),
    ("heatmap as of", f"/api/v1/heatmap/?as_of={DAY}", "api"),
    ("admin changelist", "/admin/risks/risk/", "admin"),
    ("assessments page", "/api/v1/assessments/", "api"),
    ("filter phase=2", "/api/v1/risks/?page_size=100&phase=2", "api"),
    ("filter agency=STATE", "/api/v1/risks/?page_size=100&agency=STATE", "api"),
    ("filter rating=Critical", "/api/v1/risks/?page_size=100&rating=Critical", "api"),
    ("filter score_min=16", "/api/v1/risks/?page_size=100&score_min=16", "api"),
    ("filter status=monitoring", "/api/v1/risks/?page_size=100&status=monitoring", "api"),
    ("filter review_overdue", "/api/v1/risks/?page_size=100&review_overdue=true", "api"),
]
# The answers this tree keeps until the next write, read again as the first read after one:
# the register's version moves before every request (the base kept nothing, so for it these
# rows measure the same as the ones above).
AFTER_A_WRITE = [
    "phases",
    "heatmap JSON",
    "heatmap page",
    "100 risks",
    "risks as of",
    "heatmap as of",
    "filter rating=Critical",
]
ENDPOINTS += [
    (f"{name}, after a write", path, who) for name, path, who in ENDPOINTS if name in AFTER_A_WRITE
]

# Run inside each tree (its own code, its own bench.common), one process per round.
CHILD = r"""
import json, logging, os, statistics, sys, time
tree, url, out, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
endpoints = json.loads(sys.argv[5])
os.chdir(tree)
sys.path.insert(0, tree)
from bench.common import ADMIN, BOARD, bench_users, django_setup
django_setup(url)
logging.disable(logging.INFO)
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
users, token = bench_users()
clients = {"anon": Client(), "board": Client(), "admin": Client(), "api": Client()}
try:  # with the second factor shown where the user needs one, as bench/run.py signs in
    from bench.common import sign_in
except ImportError:  # a tree without a second factor
    def sign_in(client, user):
        client.force_login(user)
sign_in(clients["board"], users[BOARD])
sign_in(clients["admin"], users[ADMIN])
headers = {"api": {"authorization": f"Token {token}"}}
try:  # a rating changed: the register's version moves, the scale's does not
    from risks.signals import register_changed as changed
    def register_changed():
        changed(scale=False)
except ImportError:  # a tree that keeps no answers
    def register_changed():
        pass
results = {}
for name, path, who in endpoints:
    client, extra = clients[who], headers.get(who, {})
    write = register_changed if name.endswith("after a write") else (lambda: None)
    for _ in range(2):
        write()
        client.get(path, headers=extra).content
    wall, cpu = [], []
    for _ in range(repeats):
        write()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path, headers=extra)
        response.content
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    write()
    with CaptureQueriesContext(connection) as queries:
        client.get(path, headers=extra)
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    counted = [q for q in queries.captured_queries if not q["sql"].upper().startswith(control)]
    results[name] = {"status": response.status_code, "wall": statistics.median(wall),
                     "cpu": statistics.median(cpu), "queries": len(counted)}
json.dump(results, open(out, "w"))
"""


def run(*command: str, cwd: Path = ROOT) -> str:
    # Our own commands (git, this venv's python), with arguments from the command line.
    done = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)  # noqa: S603
    return done.stdout.strip()


def worktree(base: str) -> Path:
    """A worktree of `base` at .bench-base/ sharing this tree's .venv."""
    if BASE_DIR.exists():
        run("git", "checkout", "-q", "--detach", base, cwd=BASE_DIR)
    else:
        run("git", "worktree", "add", "-q", "--detach", str(BASE_DIR), base)
    venv = BASE_DIR / ".venv"
    if not venv.exists():
        venv.symlink_to(ROOT / ".venv")
    return BASE_DIR


def run_child(tree: Path, url: str, repeats: int, env: dict) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        script, out = Path(folder) / "child.py", Path(folder) / "out.json"
        script.write_text(CHILD)
        subprocess.run(  # noqa: S603 - this venv's python on a script written above
            [PYTHON, str(script), str(tree), url, str(out), str(repeats), json.dumps(ENDPOINTS)],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return json.loads(out.read_text())


def median_of(rounds: list[dict], name: str, key: str) -> float:
    return statistics.median(r[name][key] for r in rounds)


def table(base: str, head: str, rounds_base: list[dict], rounds_head: list[dict]) -> str:
    lines = [
        f"| endpoint | `{base[:7]}` ms (CPU ms, queries) | `{head}` ms (CPU ms, queries) "
        "| wall ratio | CPU ratio | |",
        "|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for name, _, _ in ENDPOINTS:
        cells = []
        for rounds in (rounds_base, rounds_head):
            statuses = {r[name]["status"] for r in rounds}
            wall, cpu = median_of(rounds, name, "wall"), median_of(rounds, name, "cpu")
            queries = rounds[-1][name]["queries"]
            cells.append(
                f"{wall:.1f} ({cpu:.1f}, {queries})"
                + ("" if statuses == {200} else f" HTTP {statuses}")
            )
        wall_ratio = median_of(rounds_head, name, "wall") / median_of(rounds_base, name, "wall")
        cpu_ratio = median_of(rounds_head, name, "cpu") / median_of(rounds_base, name, "cpu")
        verdict = "**slower by more than 20%**" if cpu_ratio > 1.2 and name != "healthz" else ""
        if name != "healthz":
            worst = max(worst, cpu_ratio)
        lines.append(
            f"| {name} | {cells[0]} | {cells[1]} | {wall_ratio:.2f} | {cpu_ratio:.2f} | {verdict} |"
        )
    lines.append("")
    lines.append(f"Largest CPU ratio (healthz aside): **{worst:.2f}**.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", default=os.environ.get("BASE", "87271a0"))
    parser.add_argument("--risks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()

    head = run("git", "rev-parse", "--short", "HEAD")
    tree = worktree(args.base)
    url = "postgres://postgres@127.0.0.1:5432/bench"
    base_url = "postgres://postgres@127.0.0.1:5432/bench_base"
    prepare_database(url, args.risks)
    # The base's own generator and migrations build its database.
    build = f"prepare_database({base_url!r}, {args.risks})"
    run(PYTHON, "-c", "from bench.common import prepare_database; " + build, cwd=tree)
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "DJANGO_DEBUG")}
    # One hash seed for every process: the same process measured twice otherwise differs by
    # up to 25% on this machine (dict and set layouts), more than the difference looked for.
    env["PYTHONHASHSEED"] = "0"
    head_env = {**env, "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/15")}
    started = machine()
    rounds_base, rounds_head = [], []
    for number in range(args.rounds):
        # Base first in even rounds, this tree first in odd ones: the machine's speed drifts
        # (a VM's CPU: the same page 25% slower ten minutes later), and alternating the order
        # cancels a steady drift instead of charging it to whichever tree always runs second.
        pair = [
            (rounds_base, tree, base_url, env),
            (rounds_head, ROOT, url, head_env),
        ]
        for rounds, where, database, environment in pair if number % 2 == 0 else pair[::-1]:
            rounds.append(run_child(where, database, args.repeats, environment))
        print(f"round {number + 1}/{args.rounds} done", flush=True)
    ended = machine()
    body = "\n".join(
        [
            f"`make bench-compare` (bench/compare.py), `{args.base}` against `{head}`, "
            f"{args.risks:,} risks, {args.rounds} rounds of {args.repeats} requests per "
            f"endpoint. Measured {started['date']} on {started['cpus']} x {started['cpu']}; "
            f"load average {started['load']} at the start, {ended['load']} at the end.",
            "",
            table(args.base, head, rounds_base, rounds_head),
        ]
    )
    print(body)
    if not args.no_doc:
        replace_section(DOC, "compare", body)


if __name__ == "__main__":
    main()
