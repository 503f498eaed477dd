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
  - edited XLSX: the workbook's Risks sheet with the same edits, on 1,000 rows (memory) and
    on 10,000, as the export writes it (each text in its cell) and as Excel saves it (the
    texts in a shared strings table);
  - the shared-strings workbook twice as long: the edited rows, then the same rows under new
    codes (memory and time against a file of half the size).
Each import runs for real, through risks.importing.register_import, inside an outer
transaction that is then rolled back, so the database stays as built and runs repeat.
Time is wall time of the import alone (reading the file included), and the CPU time of the
importing process (PostgreSQL's own work is not in it); memory is the process's peak resident
set minus its resident set just before the import. Results go to
docs/benchmarks.md (section `import`).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
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


def write_xlsx(source: Path, target: Path, limit: int | None = None, copies: int = 1) -> int:
    """The workbook's Risks sheet with every row edited; with `copies` > 1, the rows again
    under new codes (a risk created per row), so the file holds `copies` times as many."""
    from openpyxl import Workbook, load_workbook

    out = Workbook(write_only=True)
    sheet = out.create_sheet("Risks")
    count = 0
    for copy in range(copies):
        book = load_workbook(source, read_only=True)
        rows = book["Risks"].iter_rows(values_only=True)
        header = next([str(c) for c in cells] for cells in rows if cells[0] in ("Code", "code"))
        if not copy:
            sheet.append(header)
        for number, cells in enumerate(rows, start=1):
            if limit and number > limit:
                break
            row = dict(zip(header, ["" if c is None else str(c) for c in cells], strict=False))
            if copy:
                row = _edit(row, "new", copy * 100_000 + number)
            else:
                row = _edit(row, "edited", number)
            sheet.append(list(row.values()))
            count += 1
        book.close()
    out.save(target)
    return count


_INLINE = re.compile(
    r'<c ([^>]*?)t="inlineStr"([^>]*)><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>', re.S
)
_SHEET_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def shared_strings_copy(source: Path, target: Path) -> None:
    """The workbook with its text in a shared strings table, as Excel saves it (openpyxl,
    which writes the exports, puts each text in its cell: an "inline string")."""
    strings: dict[str, int] = {}

    def shared(match: re.Match) -> str:
        index = strings.setdefault(match.group(3), len(strings))
        return f'<c {match.group(1)}t="s"{match.group(2)}><v>{index}</v></c>'

    with zipfile.ZipFile(source) as book, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in book.infolist():
            data = book.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = _INLINE.sub(shared, data.decode()).encode()
            elif item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rIdShared" Type="{_REL_TYPES}/sharedStrings" '
                    'Target="sharedStrings.xml"/></Relationships>'.encode(),
                )
            out.writestr(item, data)
        items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in strings)
        out.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{_SHEET_MAIN}" uniqueCount="{len(strings)}">{items}</sst>',
        )


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
        started, cpu = time.perf_counter(), time.process_time()
        report = import_file(path, user=user)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        transaction.set_rollback(True)  # the bench database stays as built
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
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
        xlsx_plan = [
            (
                "edited-1000",
                1000,
                1,
                "XLSX as exported, its first 1,000 rows re-rated and owner changed (memory)",
            ),
            ("edited", some, 1, f"XLSX as exported, {first} re-rated and owner changed"),
            (
                "edited-shared",
                some,
                1,
                f"XLSX as Excel saves it (shared strings), {first} re-rated and owner changed",
            ),
            (
                "twice-shared",
                some,
                2,
                f"XLSX as Excel saves it, {first} re-rated and owner changed, then new codes",
            ),
        ]
        for name, limit, copies, label in xlsx_plan:
            path = folder / f"{name}.xlsx"
            if "shared" in name:
                inline = folder / f"{name}-inline.xlsx"
                write_xlsx(xlsx_path, inline, limit, copies)
                shared_strings_copy(inline, path)
            else:
                write_xlsx(xlsx_path, path, limit, copies)
            result = run_child(url, path)
            print(f"{label}: {json.dumps(result)}")
            results.append((label, result))
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
        "| CPU s | rows/s | memory growth MiB | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in results:
        target = (
            ("met" if r["seconds"] * 10_000 / r["rows"] < 60 else "**missed**")
            + (" (< 60 s)" if r["rows"] == 10_000 else " (< 60 s a 10,000 rows)")
            if r["rows"] >= 10_000
            else f"~{r['seconds'] * 10_000 / r['rows']:.0f} s at 10,000 rows at this rate"
        )
        body.append(
            f"| {label} | {r['rows']:,} | {r['created']:,} | {r['updated']:,} "
            f"| {r['assessed']:,} | {r['unchanged']:,} | {r['error_count']} "
            f"| {r['seconds']:.1f} | {r['cpu']:.1f} | {r['rows'] / r['seconds']:,.0f} "
            f"| {r['rss_growth']:.1f} "
            f"| {target} |"
        )
    text = "\n".join(body)
    print(text)
    if not args.no_doc:
        replace_section(DOC, "import", text)


if __name__ == "__main__":
    main()
