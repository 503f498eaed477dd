"""make bench: response times of the main pages and API calls at 10,000 risks, on PostgreSQL.

Each endpoint is requested through the full Django stack (django.test.Client: middleware,
sessions or token, permissions, templates or renderers) `--repeats` times after two warm-up
requests; the table shows the median and p95, the number of queries, and two floors:
  - SQL: the very statements the request ran, replayed through a raw cursor (fetching every
    row) inside a rolled-back transaction: the database's share of the time;
  - /healthz: one request that pings the database: the stack's fixed cost.
The database connection is kept between requests (as with CONN_MAX_AGE > 0), for every
endpoint and for /healthz alike. Results go to docs/benchmarks.md (section `bench`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ADMIN,
    BOARD,
    PYTHON,
    ROOT,
    bench_users,
    database_name,
    database_url,
    django_setup,
    machine,
    postgres_version,
    prepare_database,
    replace_section,
    sign_in,
)

DOC = ROOT / "docs" / "benchmarks.md"
FILTERS = {
    "phase": "phase=2",
    "agency": "agency=STATE",
    "rating": "rating=Critical",
    "score": "score_min=16",
    "status": "status=monitoring",
    "review_overdue": "review_overdue=true",
}


@dataclass
class Target:
    text: str
    healthz_ratio: float | None = None
    ms: float | None = None
    queries: int | None = None


@dataclass
class Result:
    name: str
    path: str
    status: int
    samples: list[float]
    queries: int
    floor: float
    statements: list[str] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    target: Target | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def consume(response) -> int:
    # The test client closes the response itself (at the end of the stream when streaming)
    # without closing the database connection; closing it again here would.
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def counted(statements: list[str]) -> int:
    """Queries, not counting the transaction control around them (ATOMIC_REQUESTS)."""
    return sum(not sql.startswith(TRANSACTION_CONTROL) for sql in statements)


def replayable(statements: list[str]) -> list[str]:
    out = []
    for sql in statements:
        if sql.startswith(TRANSACTION_CONTROL):
            continue
        # QuerySet.iterator() declares a server-side cursor; replay the SELECT it holds.
        out.append(re.sub(r"^DECLARE .*? CURSOR (WITH(OUT)? HOLD )?FOR ", "", sql, flags=re.S))
    return out


def sql_floor(statements: list[str], repeats: int) -> float:
    from django.db import connection, transaction

    samples = []
    for _ in range(repeats):
        with transaction.atomic():
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    if cursor.description:
                        cursor.fetchall()
            samples.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    return statistics.median(samples)


class Bench:
    def __init__(self, repeats: int):
        from django.test import Client

        self.repeats = repeats
        users, token = bench_users()
        self.clients = {"anon": Client(), "board": Client(), "admin": Client(), "api": Client()}
        sign_in(self.clients["board"], users[BOARD])
        sign_in(self.clients["admin"], users[ADMIN])
        self.api_headers = {"authorization": f"Token {token}"}

    def request(self, who: str, path: str):
        headers = self.api_headers if who == "api" else {}
        return self.clients[who].get(path, headers=headers)

    def measure(
        self,
        name,
        path,
        who,
        *,
        repeats=None,
        target=None,
        floor_repeats=None,
        warmups=2,
        before=None,
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        repeats = repeats or self.repeats
        for _ in range(warmups):
            consume(self.request(who, path))
        samples, cpu = [], []
        for _ in range(repeats):
            if before is not None:
                before()  # e.g. a write's invalidation: the request reads a cold cache
            started, cpu_started = time.perf_counter(), time.process_time()
            response = self.request(who, path)
            consume(response)
            samples.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as captured:
            consume(self.request(who, path))
        captured_sql = [q["sql"] for q in captured.captured_queries]
        statements = replayable(captured_sql)
        floor = sql_floor(statements, floor_repeats or repeats)
        return Result(
            name=name,
            path=path,
            status=response.status_code,
            samples=samples,
            queries=counted(captured_sql),
            floor=floor,
            statements=statements,
            cpu=cpu,
            target=target,
        )


def cursor_pages(bench: Bench, pages: int) -> list[str]:
    """The URLs of the first `pages` pages of the assessments, following `next`."""
    urls, url = [], "/api/v1/assessments/"
    while url and len(urls) < pages:
        urls.append(url)
        response = bench.request("api", url)
        url = response.json().get("next")
    return urls


def csv_memory(url: str) -> dict:
    """Peak memory of one full CSV export, in a fresh process (bench/csv_memory.py)."""
    env = {**os.environ, "DATABASE_URL": url}
    out = subprocess.run(  # noqa: S603
        [PYTHON, str(ROOT / "bench" / "csv_memory.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def plan_summary(plan: str) -> str:
    scans = []
    for kind, name in re.findall(
        r"(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)"
        r"(?: Backward)?(?: using| on) (\S+)",
        plan,
    ):
        scans.append(f"{kind} {name}")
    time_ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
    unique = list(dict.fromkeys(scans))
    return f"{time_ms.group(1) if time_ms else '?'} ms; " + ", ".join(unique)


def explain(statements: list[str]) -> list[tuple[str, str]]:
    """EXPLAIN ANALYZE of the statements that read risks_risk (the count and the page)."""
    from django.db import connection

    plans = []
    for sql in statements:
        if not sql.startswith("SELECT") or not re.search(r'FROM "risks_risk"(\s|$)', sql):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        plans.append((sql, plan))
    return plans


def verdict(result: Result, healthz: float) -> str:
    target = result.target
    if target is None:
        return ""
    if result.status == 404:
        return "missing"
    ok = True
    if target.healthz_ratio is not None:
        ok &= result.median <= target.healthz_ratio * healthz
    if target.ms is not None:
        ok &= result.median * 1000 <= target.ms
    if target.queries is not None:
        ok &= result.queries <= target.queries
    return "met" if ok else "**missed**"


def table(results: list[Result], healthz: float) -> str:
    lines = [
        "| endpoint | HTTP | median ms | p95 ms | app CPU ms | queries | SQL floor ms | x SQL "
        "| x healthz | target | |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.status == 404:
            lines.append(f"| `{r.path}` {r.name} | 404 | not there yet | | | | | | | "
                         f"{r.target.text if r.target else ''} | missing |")  # fmt: skip
            continue
        floor_ratio = f"{r.median / r.floor:.1f}" if r.floor else ""
        lines.append(
            f"| `{r.path}` {r.name} | {r.status} | {r.median * 1000:.1f} | {r.p95 * 1000:.1f} "
            f"| {statistics.median(r.cpu) * 1000:.1f} | {r.queries} | {r.floor * 1000:.1f} "
            f"| {floor_ratio} | {r.median / healthz:.1f} "
            f"| {r.target.text if r.target else ''} | {verdict(r, healthz)} |"
        )
    return "\n".join(lines)


def endpoints(risks: int) -> list[tuple]:
    """(name, path, who, target, before) of every endpoint measured at every size."""
    from risks.models import Risk
    from risks.signals import register_changed as changed

    def register_changed():
        changed(scale=False)  # a rating changed: the register's version moves, not the scale's

    day = datetime.date.today() - datetime.timedelta(days=365)
    as_of = day.isoformat()
    code = f"G{risks // 2:05d}"
    # As of a year ago, a risk that was on the register then: that one, or the next after it.
    began = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
    then = Risk.objects.filter(code__gte=code, code__startswith="G", created_at__lt=began)
    past_code = then.order_by("code").values_list("code", flat=True).first() or code
    plan = [
        # The smallest API list (three phases): what token authentication, permissions and
        # DRF cost before any work.
        (
            "DRF floor: 3 phases",
            "/api/v1/phases/",
            "api",
            Target("<= 2x healthz, <= 3 queries", healthz_ratio=2, queries=3),
            None,
        ),
        ("DRF floor: 3 phases, after a write", "/api/v1/phases/", "api", None, register_changed),
        ("heatmap JSON", "/api/v1/heatmap/", "api", Target("<= 3x healthz", healthz_ratio=3), None),
        # After every write the next read computes the grid again: that read, each time.
        ("heatmap JSON, after a write", "/api/v1/heatmap/", "api", None, register_changed),
        ("heatmap page", "/heatmap/", "board", Target("<= 6x healthz", healthz_ratio=6), None),
        ("heatmap page, after a write", "/heatmap/", "board", None, register_changed),
        ("dashboard", "/", "board", Target("< 150 ms", ms=150), None),
        ("risk page", f"/risks/{code}/", "board", Target("< 150 ms", ms=150), None),
        (
            "100 risks",
            "/api/v1/risks/?page_size=100",
            "api",
            Target("<= 8x healthz, <= 6 queries", healthz_ratio=8, queries=6),
            None,
        ),
        (
            "100 risks, after a write",
            "/api/v1/risks/?page_size=100",
            "api",
            None,
            register_changed,
        ),
        ("risks as of", f"/api/v1/risks/?as_of={as_of}", "api", None, None),
        (
            "risks as of, after a write",
            f"/api/v1/risks/?as_of={as_of}",
            "api",
            None,
            register_changed,
        ),
        ("register page as of", f"/risks/?as_of={as_of}", "board", None, None),
        ("risk page as of", f"/risks/{past_code}/?as_of={as_of}", "board", None, None),
        (
            "heatmap as of",
            f"/api/v1/heatmap/?as_of={as_of}",
            "api",
            Target("< 300 ms", ms=300),
            None,
        ),
        (
            "heatmap as of, after a write",
            f"/api/v1/heatmap/?as_of={as_of}",
            "api",
            None,
            register_changed,
        ),
        ("admin changelist", "/admin/risks/risk/", "admin", Target("< 250 ms", ms=250), None),
    ]
    plan += [
        (f"filter {name}", f"/api/v1/risks/?page_size=100&{query}", "api", None, None)
        for name, query in FILTERS.items()
    ]
    plan += [
        (
            f"filter {name}, after a write",
            f"/api/v1/risks/?page_size=100&{query}",
            "api",
            None,
            register_changed,
        )
        for name, query in FILTERS.items()
    ]
    return plan


SIZE_URLS = {1_000: "_1k", 100_000: "_100k"}


def size_url(url: str, risks: int, base: str | None = None) -> str:
    """The bench database of another size: bench_1k (995 generated + the seed's 5),
    bench_100k; named after `base` if given, else after the main database. A size without
    a suffix (the main one, 10,000) is the main database itself."""
    if risks not in SIZE_URLS:
        return url
    name = database_name(url)
    return url.replace(f"/{name}", f"/{base or name}{SIZE_URLS[risks]}", 1)


def measure_size(risks: int, repeats: int, out: str, base: str | None = None) -> None:
    """One size, in its own process (one database per process): every endpoint, to JSON."""
    url = size_url(database_url(), risks, base)
    generate_seconds = prepare_database(url, risks - 5 if risks == 1_000 else risks)
    django_setup(url)
    from risks.models import Risk

    bench = Bench(repeats)
    healthz = bench.measure("floor", "/healthz", "anon", repeats=max(200, repeats))
    rows = {"/healthz floor": [healthz.median, healthz.queries, healthz.status]}
    for name, path, who, _, before in endpoints(risks):
        result = bench.measure(name, path, who, before=before)
        rows[name] = [result.median, result.queries, result.status]
        print(f"{risks:>7} {path:<48} {result.status} {result.median * 1000:8.1f} ms", flush=True)
    Path(out).write_text(
        json.dumps({"risks": Risk.objects.count(), "generate": generate_seconds, "rows": rows})
    )


def growth_table(sizes: dict[int, dict]) -> str:
    """Median ms (and x healthz) of each endpoint at each size."""
    ordered = sorted(sizes)
    lines = [
        "| endpoint | "
        + " | ".join(f"{sizes[n]['risks']:,} risks" for n in ordered)
        + f" | {ordered[-1] // ordered[0]}x risks: time x |",
        "|---|" + "---|" * (len(ordered) + 1),
    ]
    for name in sizes[ordered[0]]["rows"]:
        cells = []
        for n in ordered:
            median, queries, status = sizes[n]["rows"][name]
            healthz = sizes[n]["rows"]["/healthz floor"][0]
            cells.append(
                f"{median * 1000:.1f} ms, {median / healthz:.1f}x, {queries} q"
                if status == 200
                else f"HTTP {status}"
            )
        first, last = sizes[ordered[0]]["rows"][name][0], sizes[ordered[-1]]["rows"][name][0]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {last / first:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--risks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--csv-repeats", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the database.")
    parser.add_argument("--no-doc", action="store_true", help="Do not write docs/benchmarks.md.")
    parser.add_argument(
        "--sizes",
        default="1000,100000",
        help="Other register sizes for the growth table (comma-separated; '' for none).",
    )
    parser.add_argument(
        "--sizes-base",
        help="Name the other sizes' databases after this one (bench: bench_1k, bench_100k) "
        "instead of after the main database.",
    )
    parser.add_argument(
        "--growth-only",
        action="store_true",
        help="Only the growth table: every size, the main one included, measured alike.",
    )
    parser.add_argument("--size-only", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.size_only:
        measure_size(args.size_only, args.repeats, args.json, args.sizes_base)
        return
    if args.growth_only:
        started = machine()
        sizes = measure_sizes([args.risks, *size_list(args.sizes)], args)
        growth = growth_report(sizes, started)
        print(growth)
        if not args.no_doc:
            replace_section(DOC, "growth", growth)
        return

    started = machine()
    url = database_url()
    generate_seconds = prepare_database(url, args.risks, rebuild=args.rebuild)
    small_url = url.replace(f"/{database_name(url)}", f"/{database_name(url)}_1k", 1)
    prepare_database(small_url, 995)  # with the seed's five: 1,000 risks
    django_setup(url)

    from risks.models import Assessment, Risk

    bench = Bench(args.repeats)
    risk_count, assessment_count = Risk.objects.count(), Assessment.objects.count()
    print(f"{risk_count} risks, {assessment_count} assessments; {args.repeats} requests each")
    healthz = bench.measure("floor", "/healthz", "anon", repeats=max(200, args.repeats))
    results = [healthz]
    plan = endpoints(args.risks)
    for name, path, who, target, before in plan:
        result = bench.measure(name, path, who, target=target, before=before)
        results.append(result)
        print(f"{path:<48} {result.status} {result.median * 1000:8.1f} ms  {result.queries} q")

    pages = cursor_pages(bench, 5)
    page_results = [
        bench.measure("", page, "api", repeats=max(6, args.repeats // 5)) for page in pages
    ]
    walk = Result(
        name=f"cursor, {len(pages)} pages of 100 (per page)",
        path="/api/v1/assessments/",
        status=page_results[-1].status,
        samples=[s for r in page_results for s in r.samples],
        cpu=[s for r in page_results for s in r.cpu],
        queries=max(r.queries for r in page_results),
        floor=statistics.mean(r.floor for r in page_results),
    )
    results.append(walk)
    print(f"{'assessments, per cursor page':<48} {walk.status} {walk.median * 1000:8.1f} ms")

    export = bench.measure(
        "full CSV export",
        "/api/v1/risks/?format=csv",
        "api",
        repeats=args.csv_repeats,
        floor_repeats=args.csv_repeats,
        warmups=1,
        target=Target("< 3 s, flat memory", ms=3000),
    )
    results.append(export)
    print(f"{'CSV export':<48} {export.status} {export.median * 1000:8.1f} ms  {export.queries} q")
    memory = {"10k": csv_memory(url), "1k": csv_memory(small_url)}
    print("CSV memory:", json.dumps(memory))

    from bench.floor import floor_section

    floor = floor_section(bench.clients["api"], bench.api_headers)
    print(floor)
    if not args.no_doc:
        replace_section(DOC, "floor", floor)

    explains = {}
    for result in results:
        if result.name.startswith("filter ") or result.name in ("100 risks", "risks as of"):
            explains[result.name] = explain(result.statements)

    report = render(
        results=results,
        healthz=healthz.median,
        memory=memory,
        explains=explains,
        counts=(risk_count, assessment_count),
        generate_seconds=generate_seconds,
        repeats=args.repeats,
        started=started,
    )
    print(report)
    if not args.no_doc:
        replace_section(DOC, "bench", report)
        print(f"Wrote {DOC.relative_to(ROOT)}")

    names = {name for name, *_ in plan}
    sizes = {
        args.risks: {
            "risks": risk_count,
            "generate": generate_seconds,
            "rows": {
                ("/healthz floor" if r.name == "floor" else r.name): [r.median, r.queries, r.status]
                for r in results
                if r.name in names or r.name == "floor"
            },
        }
    }
    sizes.update(measure_sizes(size_list(args.sizes), args))
    if len(sizes) > 1:
        growth = growth_report(sizes, started)
        print(growth)
        if not args.no_doc:
            replace_section(DOC, "growth", growth)


def size_list(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n.strip()]


def measure_sizes(sizes: list[int], args) -> dict[int, dict]:
    """Each size in a process of its own (bench_1k, bench_100k: built when missing)."""
    results = {}
    for size in sizes:
        out = Path(f"/tmp/bench-size-{size}.json")  # noqa: S108 - a scratch file of this run
        command = [PYTHON, str(Path(__file__)), "--size-only", str(size), "--json", str(out)]
        command += ["--repeats", str(args.repeats)]
        if args.sizes_base:
            command += ["--sizes-base", args.sizes_base]
        subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603
        results[size] = json.loads(out.read_text())
    return results


def growth_report(sizes: dict[int, dict], started: dict) -> str:
    info = machine()
    built = ", ".join(
        f"{sizes[n]['risks']:,} risks in {sizes[n]['generate']:.0f} s"
        for n in sorted(sizes)
        if sizes[n]["generate"] is not None
    )
    lines = [
        f"Code `{info['revision']}`, {info['date']}; load average {started['load']} at the start "
        f"of the run, {info['load']} at the end. Each cell: median, its ratio to that "
        "database's `/healthz`, queries.",
        "",
    ]
    if built:
        lines += [f"`generate_register` built {built} (this run).", ""]
    return "\n".join([*lines, growth_table(sizes)])


def render(*, results, healthz, memory, explains, counts, generate_seconds, repeats, started):
    info = machine()
    lines = [
        f"Code `{info['revision']}`. The machine is shared: load average (1, 5, 15 min) "
        f"{started['load']} at the start, {info['load']} at the end.",
        "",
        f"Measured {info['date']} on {info['cpus']} x {info['cpu']}, {info['ram']} RAM, "
        f"{postgres_version()}, Python {info['python']}; {counts[0]:,} risks, "
        f"{counts[1]:,} assessments. {repeats} requests per endpoint after 2 warm-ups "
        "(CSV: see its row), through django.test.Client with a signed-in user or an API token.",
        "",
    ]
    if generate_seconds is not None:
        lines += [f"`generate_register` built the database in {generate_seconds:.1f} s.", ""]
    lines += [table(results, healthz), ""]
    export = next(r for r in results if r.name == "full CSV export")
    lines += [
        f"CSV export: {len(export.samples)} full downloads, median {export.median:.2f} s. "
        "Memory of one full export in a fresh process (tracemalloc peak of Python "
        "allocations while streaming, and growth of the resident set):",
        "",
        "| risks | rows | bytes | seconds (traced) | tracemalloc peak | RSS growth "
        "| Python memory held after 1k / 2k / 5k / 10k rows |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in memory.values():
        held = " / ".join(
            f"{m['traced_mib'][str(n)]:.1f}" if str(n) in m["traced_mib"] else "-"
            for n in (1000, 2000, 5000, 10000)
        )
        lines.append(
            f"| {m['risks']:,} | {m['rows']:,} | {m['bytes']:,} | {m['seconds']:.1f} "
            f"| {m['peak_mib']:.1f} MiB | {m['rss_growth_mib']:.1f} MiB | {held} MiB |"
        )
    lines += ["", "### Query plans of the API's risk filters (EXPLAIN ANALYZE, BUFFERS)", ""]
    for name, plans in explains.items():
        lines.append(f"**{name}**")
        lines.append("")
        for sql, plan in plans:
            kind = "count" if "COUNT(" in sql[:40] else "page"
            lines.append(f"- {kind}: {plan_summary(plan)}")
        lines.append("")
        lines.append("<details><summary>plans</summary>")
        lines.append("")
        for sql, plan in plans:
            lines += ["```sql", sql, "```", "```", plan, "```"]
        lines += ["</details>", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
