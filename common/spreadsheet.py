"""Cells that are safe to open in a spreadsheet, and CSV that streams.

Every CSV and XLSX file the app writes passes its text through `neutralise` (OWASP "CSV
injection"): text that a spreadsheet would read as a formula is prefixed with an apostrophe.
A plain number written as text ("-5.00") is left alone: it is data, not a formula."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

# A spreadsheet reads a cell starting with one of these as a formula (or a DDE command).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
BOM = "\ufeff"  # so spreadsheet programs read the file as UTF-8


def is_formula_like(value) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _NUMBER.fullmatch(value)
    )


def neutralise(value):
    """The value as a spreadsheet must show it: text that would run as a formula gets a
    leading apostrophe; anything else is returned unchanged."""
    return "'" + value if is_formula_like(value) else value


class _Echo:
    """csv.writer writes into this and hands each line back."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: list[str],
    rows: Iterable[list],
    *,
    bom: bool = False,
    batch: int = 200,
    title: str | None = None,
) -> Iterator[str]:
    """An optional one-cell title line (what the file holds), the header, then every row,
    `batch` rows a chunk, each cell neutralised. The header comes even when there are no
    rows, so an empty result still reads as a table."""
    writer = csv.writer(_Echo())
    first = writer.writerow([neutralise(name) for name in header])
    if title is not None:
        first = writer.writerow([neutralise(title)]) + first
    yield (BOM + first) if bom else first
    lines: list[str] = []
    for row in rows:
        lines.append(writer.writerow(["" if value is None else neutralise(value) for value in row]))
        if len(lines) >= batch:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
