"""Memory of one full CSV export of the risks, streamed, in a fresh process.

Prints one JSON line: rows, bytes, seconds, the tracemalloc peak of Python allocations
while streaming (after a small warm-up export) and the growth of the resident set.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_users, database_url, django_setup


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    django_setup(database_url())
    from django.test import Client

    from risks.models import Risk

    _, token = bench_users()
    client = Client(headers={"authorization": f"Token {token}"})
    # Warm up imports, the URL resolver and the serializers on a few rows.
    warm = client.get("/api/v1/risks/?format=csv&score_min=25")
    b"".join(warm.streaming_content)

    rss_before, rss_peak = rss_mib(), 0.0
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    response = client.get("/api/v1/risks/?format=csv")
    # A chunk may hold one row or a batch of them: count rows by the CSV line terminator.
    lines = size = 0
    traced = {}  # rows streamed: Python memory held at that moment, MiB
    for chunk in response.streaming_content:
        before, lines = lines, lines + chunk.count(b"\r\n")
        size += len(chunk)
        rss_peak = max(rss_peak, rss_mib()) if lines // 250 > before // 250 else rss_peak
        if lines // 1000 > before // 1000:
            traced[lines // 1000 * 1000] = (
                (tracemalloc.get_traced_memory()[0] - baseline) / 1024 / 1024
            )
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    rss_peak = max(rss_peak, rss_mib())
    print(
        json.dumps(
            {
                "risks": Risk.objects.count(),
                "rows": lines - 1,  # the header is a line too
                "bytes": size,
                "seconds": seconds,
                "peak_mib": peak / 1024 / 1024,
                "traced_mib": traced,
                "rss_growth_mib": rss_peak - rss_before,
                "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
