"""Profile one request against the bench database: its queries with their times, and a
pyinstrument profile of the Python side.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/profile.py /api/v1/heatmap/ --as api

pyinstrument is not a dependency of the project: `.venv/bin/pip install pyinstrument`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ADMIN, BOARD, bench_users, database_url, django_setup, sign_in


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("path")
    parser.add_argument(
        "--as", dest="who", choices=["api", "board", "admin", "anon"], default="api"
    )
    parser.add_argument("--repeats", type=int, default=5, help="Requests profiled together.")
    parser.add_argument("--queries", action="store_true", help="Print every query's SQL.")
    parser.add_argument(
        "--all", action="store_true", help="Show library frames too (above 2% of the time)."
    )
    args = parser.parse_args()

    django_setup(database_url())
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    users, token = bench_users()
    client = Client()
    headers = {}
    if args.who == "api":
        headers = {"authorization": f"Token {token}"}
    elif args.who in ("board", "admin"):
        sign_in(client, users[BOARD if args.who == "board" else ADMIN])

    def get():
        response = client.get(args.path, headers=headers)
        if response.streaming:
            for _ in response.streaming_content:
                pass
        return response

    get()  # warm up
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = get()
        elapsed = time.perf_counter() - started
    print(f"{args.path}: HTTP {response.status_code}, {elapsed * 1000:.1f} ms with query logging")
    for n, query in enumerate(captured.captured_queries, 1):
        sql = query["sql"] if args.queries else query["sql"][:150].replace("\n", " ")
        print(f"{n:3} {float(query['time']) * 1000:7.1f} ms  {sql}")

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.repeats):
        get()
    profiler.stop()
    print(
        profiler.output_text(
            unicode=True,
            color=False,
            show_all=args.all,
            processor_options={"filter_threshold": 0.02} if args.all else None,
        )
    )


if __name__ == "__main__":
    main()
