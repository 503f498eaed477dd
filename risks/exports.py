"""The board pack: the register and review snapshots as CSV (streamed) and XLSX workbooks.

Both formats carry each level as its number and its label, so the pack reads without the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from io import BytesIO

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from common.spreadsheet import csv_lines, is_formula_like, neutralise
from risks import columns, rules, selectors
from risks.columns import Column
from risks.models import Axis, BoardReview, RatingLevel, Risk
from risks.selectors import Heatmap, Scale

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- CSV ---------------------------------------------------------------------------------


def register_csv(
    *,
    risks: QuerySet[Risk],
    scale: Scale,
    as_of=None,
    request=None,
    filters: Sequence[tuple[str, str]] = (),
) -> Iterator[str]:
    """The register's columns (risks/columns.py) with their human headers, under a first line
    naming the day and the filters that chose the rows, as the workbook's Risks sheet has.
    The import finds the header below it, so an export imports again as it is."""
    rows = columns.register_table(
        risks, style=columns.HUMAN, scale=scale, request=request, as_of=as_of
    )
    return csv_lines(
        columns.header(columns.HUMAN), rows, bom=True, title=register_note(as_of, filters)
    )


def snapshot_csv(*, review: BoardReview, scale: Scale) -> Iterator[str]:
    rows = columns.snapshot_table(review=review, style=columns.HUMAN, scale=scale)
    return csv_lines([c.header for c in columns.SNAPSHOT_COLUMNS], rows, bom=True)


# --- XLSX --------------------------------------------------------------------------------

BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def _cell(sheet, value, *, bold: bool = False, band=None, wrap: bool = False, number_format=None):
    formula_like = is_formula_like(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", neutralise(value))
    cell = WriteOnlyCell(sheet, value=value)
    if cell.data_type == "f" or formula_like:
        # Text that would run as a formula stays text, shown with the apostrophe the CSV has.
        cell.data_type = "s"
        cell.quotePrefix = True
    if number_format is not None and value is not None:
        cell.number_format = number_format
    if band is not None:
        cell.fill = PatternFill("solid", fgColor=band.colour.lstrip("#").upper())
        cell.font = Font(bold=bold, color=band.text_colour.lstrip("#").upper())
    elif bold:
        cell.font = BOLD
    if wrap or band is not None:
        cell.alignment = WRAP
    return cell


def _row(sheet, values: Iterable, **style) -> None:
    sheet.append([_cell(sheet, value, **style) for value in values])


def _scale_sheet(book: Workbook, scale: Scale) -> None:
    sheet = book.create_sheet("Scale")
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 80
    for axis, title in ((Axis.LIKELIHOOD, "Likelihood"), (Axis.IMPACT, "Impact")):
        _row(sheet, [f"{title} levels"], bold=True)
        _row(sheet, ["Level", "Label", "Definition"], bold=True)
        for level in RatingLevel.objects.filter(axis=axis).order_by("level"):
            _row(sheet, [level.level, level.label, level.definition], wrap=True)
        sheet.append([])
    _row(sheet, ["Rating bands (score = likelihood x impact)"], bold=True)
    _row(sheet, ["Band", "Scores", "Colour", "Review every (days)"], bold=True)
    for band in scale.bands:
        sheet.append(
            [
                _cell(sheet, band.name, band=band, bold=True),
                _cell(sheet, f"{band.min_score}-{band.max_score}"),
                _cell(sheet, band.colour),
                _cell(sheet, band.review_frequency_days),
            ]
        )
    sheet.append([])
    _row(sheet, ["Risk appetite"], bold=True)
    appetite = scale.appetite
    if appetite is None:
        _row(sheet, ["None recorded"])
    else:
        _row(sheet, ["Highest acceptable score", appetite.max_score])
        _row(sheet, ["Effective from", appetite.effective_from])
        _row(sheet, ["Approved by", appetite.approved_by])
        _row(sheet, ["Statement", appetite.statement], wrap=True)


def _grid_sheet(book: Workbook, title: str, grid: Heatmap, note: str) -> None:
    sheet = book.create_sheet(title)
    sheet.column_dimensions["A"].width = 22
    for column in "BCDEF":
        sheet.column_dimensions[column].width = 24
    _row(sheet, [f"{title}: {note}"], bold=True)
    _row(
        sheet,
        [
            f"{grid.total} risks; cells above the risk appetite"
            f" (score {grid.scale.appetite_score}) are marked ABOVE APPETITE"
            if grid.scale.appetite
            else f"{grid.total} risks"
        ],
    )
    _row(
        sheet,
        [
            "Likelihood \\ Impact",
            *(f"{label} ({level})" for level, label in sorted(grid.scale.impact_labels.items())),
        ],
        bold=True,
    )
    for row in grid.rows:
        first = row[0]
        cells = [
            _cell(
                sheet,
                f"{grid.scale.label(Axis.LIKELIHOOD, first.likelihood)} ({first.likelihood})",
                bold=True,
            )
        ]
        for cell in row:
            text = f"{cell.band.name if cell.band else ''} · {cell.score}"
            if cell.above_appetite:
                text += " · ABOVE APPETITE"
            text += f"\n{cell.count} risk{'s' if cell.count != 1 else ''}"
            if cell.entries:
                text += ": " + ", ".join(cell.risks)
                if cell.more:
                    text += f" and {cell.more} more"
            cells.append(_cell(sheet, text, band=cell.band))
        sheet.append(cells)


HEADER_FILL = PatternFill("solid", fgColor="DFE1E2")
HEADER = Font(bold=True)
NUMBER_FORMATS = {columns.DATE: "yyyy-mm-dd", columns.DATETIME: "yyyy-mm-dd hh:mm"}
WIDTHS = {
    columns.LONG_TEXT: 60,
    columns.DATE: 12,
    columns.DATETIME: 17,
    columns.BOOL: 10,
    columns.INT: 9,
    columns.LIST: 18,
}


def _width(column: Column) -> int:
    if column.width:
        return column.width
    return max(WIDTHS.get(column.kind, 16), min(len(column.header) + 2, 24))


def _table_sheet(book: Workbook, cols: Sequence[Column], rows: Iterable[list], note: str) -> None:
    """The table on its own sheet: a line saying what it holds (the filters), then the human
    header, frozen with the first two columns, under an auto-filter; dates are dates."""
    sheet = book.create_sheet("Risks")
    for index, column in enumerate(cols, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column)
    sheet.freeze_panes = "C3"
    _row(sheet, [note], bold=True)
    sheet.append([_header_cell(sheet, column.header) for column in cols])
    formats = [NUMBER_FORMATS.get(column.kind) for column in cols]
    count = 0
    for row in rows:
        sheet.append(
            [
                _cell(sheet, value, number_format=fmt)
                for value, fmt in zip(row, formats, strict=True)
            ]
        )
        count += 1
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(cols))}{count + 2}"


def _header_cell(sheet, text: str):
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = HEADER
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def register_note(as_of, filters: Sequence[tuple[str, str]]) -> str:
    """What a board file holds: the day, then the filters ("the register today; Filters: …")."""
    when = f"the register as of {as_of:%Y-%m-%d}" if as_of else "the register today"
    return f"{when}; {filters_note(filters)}"


def filters_note(filters: Sequence[tuple[str, str]]) -> str:
    if not filters:
        return "Filters: none (every risk on the register)"
    return "Filters: " + "; ".join(f"{label}: {value}" for label, value in filters)


def _workbook(
    *, scale: Scale, current: Heatmap, target: Heatmap, note: str, cols, rows, table_note: str
) -> bytes:
    # Write-only: rows go to the file as they are produced, so a large register fits.
    book = Workbook(write_only=True)
    _scale_sheet(book, scale)
    _grid_sheet(book, "Current grid", current, note)
    _grid_sheet(book, "Target grid", target, note)
    _table_sheet(book, cols, rows, table_note)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def register_xlsx(
    *,
    risks: QuerySet[Risk],
    scale: Scale,
    status: str | None = None,
    as_of=None,
    filters: Sequence[tuple[str, str]] = (),
    request=None,
) -> bytes:
    """The grids count the risks of the selection that the heatmap would
    (rules.heatmap_includes_closed); the Risks sheet lists the whole selection, in the
    register's columns, under a line naming the filters that chose it."""
    on_grid = (
        risks
        if rules.heatmap_includes_closed(status=status)
        else risks.exclude(status=rules.CLOSED)
    )
    grid = partial(selectors.heatmap_grid, risks=on_grid, scale=scale, as_of=as_of)
    return _workbook(
        scale=scale,
        current=grid(basis="current"),
        target=grid(basis="target"),
        note=register_note(as_of, filters),
        cols=columns.REGISTER_COLUMNS,
        rows=columns.register_table(
            risks, style=columns.XLSX, scale=scale, request=request, as_of=as_of
        ),
        table_note=filters_note(filters),
    )


def snapshot_xlsx(*, review: BoardReview, scale: Scale) -> bytes:
    note = f"as frozen by the {review.quarter} review on {review.finalised_at:%Y-%m-%d}"
    if (anchor := review.trigger_log_anchor) is not None:
        note += (
            f"; trigger log head #{anchor.sequence} {anchor.entry_hash}, signed"
            f" {anchor.signed_at:%Y-%m-%d %H:%M:%S} UTC (key {anchor.key_id}): {anchor.signature}"
        )
    return _workbook(
        scale=scale,
        current=selectors.review_grid(review=review, basis="current", scale=scale),
        target=selectors.review_grid(review=review, basis="target", scale=scale),
        note=note,
        cols=columns.SNAPSHOT_COLUMNS,
        rows=columns.snapshot_table(review=review, style=columns.XLSX, scale=scale),
        table_note=f"Every open risk {note}",
    )
