"""The floor, part by part: what each layer costs a trivial authenticated API list.

`/api/v1/phases/` (3 phases, the auditor's token) is requested as built and with one part
changed at a time, in rounds that interleave every variant and `/healthz` (so load moves
them together); the table gives the median wall and CPU time (time.process_time) and the
statements of one request. `make bench` runs it (section `floor` of docs/benchmarks.md);
`python bench/floor.py` runs it alone against DATABASE_URL (default: the bench database).

The variants switch a part on or off in this process only (class attributes and settings
restored after): nothing in the code base carries a switch for a benchmark."""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PATH = "/api/v1/phases/"


@contextlib.contextmanager
def attribute(owner, name: str, value) -> Iterator[None]:
    old = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


def variants() -> list[tuple[str, str, Callable[[], contextlib.AbstractContextManager]]]:
    """(name, what it shows, the context that makes it)."""
    from django.test import override_settings
    from rest_framework.renderers import JSONRenderer

    from risks.signals import register_changed
    from roadmap.api.views import PhaseViewSet

    @contextlib.contextmanager
    def answer_computed():
        # Every request is the first read after a write: the list is built and serialised.
        from django.core.signals import request_started

        def moved(**kwargs):
            register_changed(scale=False)

        request_started.connect(moved)
        try:
            yield
        finally:
            request_started.disconnect(moved)

    @contextlib.contextmanager
    def computed_and(context):
        with answer_computed(), context():
            yield

    @contextlib.contextmanager
    def no_token_cache():
        with override_settings(API_AUTH_CACHE_SECONDS=0):
            yield

    @contextlib.contextmanager
    def json_only():
        with attribute(PhaseViewSet, "renderer_classes", [JSONRenderer]):
            yield

    @contextlib.contextmanager
    def no_throttle():
        with attribute(PhaseViewSet, "throttle_classes", []):
            yield

    @contextlib.contextmanager
    def in_a_transaction():
        from django.db import transaction

        from common.api_schema import ApiView

        def dispatch(self, request, *args, **kwargs):
            # As ATOMIC_REQUESTS would: the whole read in one transaction.
            with transaction.atomic():
                return super(ApiView, self).dispatch(request, *args, **kwargs)

        with attribute(ApiView, "dispatch", dispatch):
            yield

    return [
        ("as built: the answer kept until the next write", "", contextlib.nullcontext),
        (
            "the first read after a write (answer computed)",
            "the list's query, its prefetches and the serializer",
            answer_computed,
        ),
        (
            "computed, and the token looked up (token cache off)",
            "knox's token and user, the user's other tokens, the permissions",
            lambda: computed_and(no_token_cache),
        ),
        (
            "computed, in a transaction",
            "BEGIN and COMMIT around a read",
            lambda: computed_and(in_a_transaction),
        ),
        (
            "as built, without the throttle",
            "the throttle's counter in the cache",
            no_throttle,
        ),
        (
            "as built, JSON renderer only",
            "content negotiation over JSON, CSV and the browsable API",
            json_only,
        ),
    ]


def measure(client, headers: dict, rounds: int, repeats: int) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plan = [("`/healthz` (middleware, one `SELECT 1`)", "the stack's fixed cost", None)]
    plan += [(name, shows, make) for name, shows, make in variants()]
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, *_ in plan}
    statements: dict[str, int] = {}

    def one(name, make, count: bool = False):
        path, extra = ("/healthz", {}) if make is None else (PATH, headers)
        with make() if make is not None else contextlib.nullcontext():
            client.get(path, headers=extra)  # warm
            if count:
                with CaptureQueriesContext(connection) as queries:
                    client.get(path, headers=extra)
                statements[name] = len(queries)
                return
            for _ in range(repeats):
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(path, headers=extra)
                assert response.content is not None  # the body, read
                samples[name][0].append((time.perf_counter() - started) * 1000)
                samples[name][1].append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, (name, response.status_code)

    for _ in range(rounds):
        for name, _, make in plan:
            one(name, make)
    for name, _, make in plan:
        one(name, make, count=True)
    return [
        {
            "name": name,
            "shows": shows,
            "wall": statistics.median(samples[name][0]),
            "cpu": statistics.median(samples[name][1]),
            "statements": statements[name],
        }
        for name, shows, _ in plan
    ]


def table(rows: list[dict]) -> str:
    healthz = rows[0]
    built = rows[1]
    lines = [
        "| variant of `/api/v1/phases/` | wall ms | CPU ms | x `/healthz` (wall) "
        "| statements | the part, against the row it changes |",
        "|---|---|---|---|---|---|",
    ]
    computed = rows[2]
    for row in rows:
        against = computed if row["name"].startswith("computed,") else built
        if row is healthz or row is built:
            delta = row["shows"] or "what every request pays"
        else:
            delta = (
                f"{row['shows']}: {row['cpu'] - against['cpu']:+.1f} ms CPU, "
                f"{row['statements'] - against['statements']:+d} statements"
            )
        lines.append(
            f"| {row['name']} | {row['wall']:.1f} | {row['cpu']:.1f} | "
            f"{row['wall'] / healthz['wall']:.1f} | {row['statements']} | {delta} |"
        )
    return "\n".join(lines)


def floor_section(client, headers: dict, *, rounds: int = 5, repeats: int = 20) -> str:
    rows = measure(client, headers, rounds, repeats)
    return "\n".join(
        [
            f"{rounds} rounds, each variant and `/healthz` in turn, {repeats} requests each "
            "(median wall and CPU ms; statements of one request, transaction control "
            "included).",
            "",
            table(rows),
        ]
    )


def main() -> None:
    import os

    from bench.common import bench_users, database_url, django_setup

    # Production with several workers: a shared cache, so answers are kept (STATE_CACHE).
    os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/15")
    django_setup(database_url())
    import logging

    logging.disable(logging.INFO)
    from django.test import Client

    _, token = bench_users()
    print(floor_section(Client(), {"authorization": f"Token {token}"}))


if __name__ == "__main__":
    main()
