"""The register import at 10,000 rows on PostgreSQL (issue 16): time and memory.

Builds, or reuses, the database named by DATABASE_URL (default: postgres://postgres@127.0.0.1
:5432/import_bench; a database named bench... or ..._bench is dropped and rebuilt when it
lacks the generated risks): migrate, the seed, generate_register --risks 10000. Then it
exports the board CSV and workbook of the whole register and imports edited copies, each
import in a fresh process so its memory is its own:
  - unchanged: the export as it is (every row read, matched and compared; nothing to write);
  - edited: every row re-rated and its owner changed (an assessment and an update per risk;
    closed risks, which cannot be re-assessed, get the owner change only);
  - new: every code renamed (a risk created with its first assessment per row);
  - mixed: every other row renamed (new), the others edited;
  - the same edits on the first 1,000 rows, to compare memory with the 10,000 (unchanged
    and edited);
  - edited XLSX: the workbook's Risks sheet with the same edits.
Each import runs for real, through risks.importing.register_import, inside an outer
transaction that is then rolled back, so the database stays as built and runs repeat.
Time is wall time of the import alone (reading the file included); memory is the process's
peak resident set minus its resident set just before the import. Results go to
docs/benchmarks.md (section `import`).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ADMIN,
    PYTHON,
    ROOT,
    bench_users,
    database_name,
    django_setup,
    machine,
    postgres_version,
    prepare_database,
    replace_section,
)

DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/import_bench"
LEVEL_HEADERS = ("likelihood", "likelihood_level", "Likelihood level")
CLOSED = ("closed", "Closed")
WORKFLOW = ("closed", "Closed", "contingency_active", "Contingency active")


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- Files -------------------------------------------------------------------------------


def _edit(row: dict, scenario: str, number: int) -> dict:
    if scenario == "mixed":  # every other row new, the others edited
        scenario = "new" if number % 2 else "edited"
    level = next(h for h in LEVEL_HEADERS if h in row)
    status = "status" if "status" in row else "Status"
    code, version = ("code", "version") if "code" in row else ("Code", "Version")
    owner = "owner" if "owner" in row else "Owner"
    if scenario == "new":
        row[code], row[version] = f"N{number:05d}", ""
        if row[status] in WORKFLOW:
            row[status] = "Open"
        return row
    row[owner] = f"Imported owner {number}"
    if row[status] not in CLOSED:
        row[level] = str(int(row[level]) % 5 + 1)
    return row


def write_csv(source: Path, target: Path, scenario: str, limit: int | None = None) -> int:
    with (
        open(source, newline="", encoding="utf-8-sig") as src,
        open(target, "w", newline="", encoding="utf-8-sig") as out,
    ):
        out.write(src.readline())  # the day-and-filters line stays, as a spreadsheet keeps it
        reader = csv.DictReader(src)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        rows = 0
        for number, row in enumerate(reader, start=1):
            if limit and number > limit:
                break
            writer.writerow(row if scenario == "unchanged" else _edit(row, scenario, number))
            rows += 1
    return rows


def write_xlsx(source: Path, target: Path, limit: int | None = None) -> int:
    from openpyxl import Workbook, load_workbook

    book = load_workbook(source, read_only=True)
    rows = book["Risks"].iter_rows(values_only=True)
    header = next([str(c) for c in cells] for cells in rows if cells[0] in ("Code", "code"))
    out = Workbook(write_only=True)
    sheet = out.create_sheet("Risks")
    sheet.append(header)
    count = 0
    for number, cells in enumerate(rows, start=1):
        if limit and number > limit:
            break
        row = dict(zip(header, ["" if c is None else str(c) for c in cells], strict=False))
        sheet.append(list(_edit(row, "edited", number).values()))
        count += 1
    book.close()
    out.save(target)
    return count


def export(folder: Path) -> tuple[Path, Path, float, float]:
    from risks import exports, selectors
    from risks.models import Risk

    scale = selectors.rating_scale()
    csv_path, xlsx_path = folder / "register.csv", folder / "register.xlsx"
    started = time.perf_counter()
    with open(csv_path, "w", encoding="utf-8", newline="") as out:
        for line in exports.register_csv(risks=Risk.objects.order_by("code"), scale=scale):
            out.write(line)
    csv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    xlsx_path.write_bytes(exports.register_xlsx(risks=Risk.objects.order_by("code"), scale=scale))
    return csv_path, xlsx_path, csv_seconds, time.perf_counter() - started


# --- One import, in its own process ----------------------------------------------------------


def child(url: str, path: str) -> None:
    django_setup(url)
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from risks.importing import import_file

    user = get_user_model().objects.get(username=ADMIN)
    connection.ensure_connection()
    rss_before = _rss_mib()
    with transaction.atomic():
        started = time.perf_counter()
        report = import_file(path, user=user)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)  # the bench database stays as built
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "assessed": report.assessed,
                "unchanged": report.unchanged,
                "errors": [str(e) for e in report.errors[:5]],
                "error_count": len(report.errors),
                "rss_before": rss_before,
                "rss_growth": _peak_mib() - rss_before,
            }
        )
    )


def run_child(url: str, path: Path) -> dict:
    output = subprocess.run(  # noqa: S603
        [PYTHON, __file__, "--child", str(path)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- The run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--risks", type=int, default=10_000)
    parser.add_argument(
        "--edit-rows",
        type=int,
        default=10_000,
        help="How many rows the edited and new files hold (default: every risk).",
    )
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the database.")
    parser.add_argument("--no-doc", action="store_true", help="Do not write docs/benchmarks.md.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"The import benchmark needs PostgreSQL; DATABASE_URL is {url!r}.")
    if args.child:
        child(url, args.child)
        return

    started = machine()
    prepare_database(url, args.risks, rebuild=args.rebuild)
    django_setup(url)
    from risks.models import Risk

    bench_users()
    risk_count = Risk.objects.count()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path, xlsx_path, csv_seconds, xlsx_seconds = export(folder)
        some = args.edit_rows if args.edit_rows < risk_count else None
        first = f"the first {args.edit_rows:,} rows" if some else "every row"
        plan = [
            ("unchanged", "CSV, the export as it is", None),
            ("unchanged", "CSV, its first 1,000 rows (memory compared)", 1000),
            ("edited", "CSV, its first 1,000 rows re-rated and owner changed (memory)", 1000),
            ("edited", f"CSV, {first} re-rated and owner changed", some),
            ("new", f"CSV, {first} with new codes: a risk created per row", some),
            ("mixed", f"CSV, {first}: every other one new, the others edited", some),
        ]
        for scenario, label, limit in plan:
            path = folder / f"{scenario}-{limit or 'all'}.csv"
            write_csv(csv_path, path, scenario, limit)
            result = run_child(url, path)
            print(f"{label}: {json.dumps(result)}")
            results.append((label, result))
        path = folder / "edited.xlsx"
        write_xlsx(xlsx_path, path, some)
        result = run_child(url, path)
        print(f"XLSX edited: {json.dumps(result)}")
        results.append((f"XLSX (Risks sheet), {first} re-rated and owner changed", result))
    ended = machine()
    body = [
        f"Code `{started['revision']}`. The machine is shared: load average (1, 5, 15 min) "
        f"{started['load']} at the start, {ended['load']} at the end.",
        "",
        f"Measured {started['date']} on {started['cpus']} x {started['cpu'].split()[0]} "
        f"{' '.join(started['cpu'].split()[1:2])}, {started['ram']} RAM, {postgres_version()}, "
        f"Python {started['python']}; database `{database_name(url)}` with {risk_count:,} risks. "
        f"Exporting them took {csv_seconds:.1f} s (CSV) and {xlsx_seconds:.1f} s (XLSX).",
        "",
        "| file | rows | new | updated | re-assessed | unchanged | errors | seconds "
        "| rows/s | memory growth MiB | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in results:
        target = (
            ("met" if r["seconds"] < 60 else "**missed**") + " (< 60 s)"
            if r["rows"] >= 10_000
            else f"~{r['seconds'] * 10_000 / r['rows']:.0f} s at 10,000 rows at this rate"
        )
        body.append(
            f"| {label} | {r['rows']:,} | {r['created']:,} | {r['updated']:,} "
            f"| {r['assessed']:,} | {r['unchanged']:,} | {r['error_count']} "
            f"| {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} | {r['rss_growth']:.1f} "
            f"| {target} |"
        )
    text = "\n".join(body)
    print(text)
    if not args.no_doc:
        replace_section(DOC, "import", text)


if __name__ == "__main__":
    main()
