"""A full CSV export against walking the same list as JSON, page by page (cursor links).

Prints one JSON line per list: rows, the CSV's seconds, the JSON walk's seconds (pages of
100, the logs' default, and of 500), and the ratio. Runs on any PostgreSQL database that holds
generated data (e.g. `generate_register --risks 2000` gives about 20,000 assessments):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mine .venv/bin/python bench/csv_vs_json.py

(or name the lists to measure: `... bench/csv_vs_json.py /api/v1/assessments/`).

Wall time suffers from whatever else the machine runs; the CPU time of this process (the app
and the client are one process) much less so: both are printed.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_users, database_url, django_setup

LISTS = ["/api/v1/assessments/", "/api/v1/risks/", "/api/v1/mitigations/"]
RUNS = 3


def _csv(client, path: str) -> tuple[float, float, int]:
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(path + "?format=csv")
    lines = sum(chunk.count(b"\r\n") for chunk in response.streaming_content)
    return time.perf_counter() - started, time.process_time() - cpu, lines - 1


def _walk(client, path: str, page_size: int) -> tuple[float, float, int]:
    started, cpu = time.perf_counter(), time.process_time()
    url, rows = f"{path}?page_size={page_size}", 0
    while url:
        data = client.get(url).json()
        rows += len(data["results"])
        url = data["next"]
    return time.perf_counter() - started, time.process_time() - cpu, rows


def main() -> None:
    django_setup(database_url())
    from django.test import Client

    _, token = bench_users()
    client = Client(headers={"authorization": f"Token {token}"})
    for path in sys.argv[1:] or LISTS:
        _csv(client, path)  # warm-up: imports, URL resolver, the database's caches
        # Interleaved, so that load from elsewhere on the machine falls on both alike.
        csv, walks = [], {100: [], 500: []}
        for _ in range(RUNS):
            csv.append(_csv(client, path))
            for size, runs in walks.items():
                runs.append(_walk(client, path, size))
        csv_s, csv_cpu = (statistics.median(run[i] for run in csv) for i in (0, 1))
        walk_s = {size: statistics.median(r[0] for r in runs) for size, runs in walks.items()}
        walk_cpu = {size: statistics.median(r[1] for r in runs) for size, runs in walks.items()}
        print(
            json.dumps(
                {
                    "list": path,
                    "rows": csv[0][2],
                    "json_rows": walks[100][0][2],
                    "csv_s": round(csv_s, 2),
                    "json_walk_s": {str(k): round(v, 2) for k, v in walk_s.items()},
                    "csv_over_fastest_walk": round(csv_s / min(walk_s.values()), 2),
                    "csv_cpu_s": round(csv_cpu, 2),
                    "json_walk_cpu_s": {str(k): round(v, 2) for k, v in walk_cpu.items()},
                    "cpu_over_fastest_walk": round(csv_cpu / min(walk_cpu.values()), 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
