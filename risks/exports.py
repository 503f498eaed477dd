"""The board pack: the register and review snapshots as CSV (streamed) and XLSX workbooks.

Both formats carry each level as its number and its label, so the pack reads without the app.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from functools import partial
from io import BytesIO

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

from risks import rules, selectors
from risks.models import Axis, BoardReview, RatingLevel, ReviewSnapshot, Risk
from risks.selectors import Heatmap, Scale

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 1000
# A spreadsheet treats text starting with these as a formula; the pack is opened in one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

RATING_HEADER = [
    "likelihood",
    "likelihood_label",
    "impact",
    "impact_label",
    "score",
    "rating",
    "target_likelihood",
    "target_likelihood_label",
    "target_impact",
    "target_impact_label",
    "target_score",
    "target_rating",
]
REGISTER_HEADER = [
    "code",
    "title",
    "category",
    "status",
    "owner",
    "owner_agency",
    "supporting_agencies",
    "phases",
    *RATING_HEADER,
    "inherent_likelihood",
    "inherent_likelihood_label",
    "inherent_impact",
    "inherent_impact_label",
    "confidence",
    "response",
    "last_assessed_at",
    "next_review_due",
    "statement",
    "mitigation_strategy",
    "contingency_plan",
    "trigger_conditions",
    "closure_reason",
    "closed_at",
]
SNAPSHOT_HEADER = [
    "review",
    "finalised_at",
    "code",
    "title",
    *RATING_HEADER,
    "status",
    "confidence",
    "next_review_due",
    "trigger_log_sequence",
    "trigger_log_head",
]


def _rating(scale: Scale, likelihood: int, impact: int, target_l: int, target_i: int) -> list:
    score, target_score = rules.score(likelihood, impact), rules.score(target_l, target_i)
    band, target_band = scale.band_for(score), scale.band_for(target_score)
    return [
        likelihood,
        scale.label(Axis.LIKELIHOOD, likelihood),
        impact,
        scale.label(Axis.IMPACT, impact),
        score,
        band.name if band else "",
        target_l,
        scale.label(Axis.LIKELIHOOD, target_l),
        target_i,
        scale.label(Axis.IMPACT, target_i),
        target_score,
        target_band.name if target_band else "",
    ]


def _iso(value) -> str:
    return value.isoformat() if value else ""


def register_rows(*, risks: QuerySet[Risk], scale: Scale) -> Iterator[list]:
    """One row per risk, read in chunks: the register can be large."""
    risks = selectors.risk_links_prefetch(risks.select_related("owner_agency"))
    for risk in risks.iterator(chunk_size=CHUNK):
        yield [
            risk.code,
            risk.title,
            risk.get_category_display(),
            risk.get_status_display(),
            risk.owner,
            risk.owner_agency.code,
            "; ".join(sorted(a.code for a in risk.supporting_agency_list)),
            "; ".join(str(p.number) for p in sorted(risk.phase_list, key=lambda p: p.number)),
            *_rating(
                scale, risk.likelihood, risk.impact, risk.target_likelihood, risk.target_impact
            ),
            risk.inherent_likelihood or "",
            scale.label(Axis.LIKELIHOOD, risk.inherent_likelihood),
            risk.inherent_impact or "",
            scale.label(Axis.IMPACT, risk.inherent_impact),
            risk.get_confidence_display(),
            risk.get_response_display(),
            _iso(risk.last_assessed_at),
            _iso(risk.next_review_due),
            risk.statement,
            risk.mitigation_strategy,
            risk.contingency_plan,
            risk.trigger_conditions,
            risk.closure_reason,
            _iso(risk.closed_at),
        ]


def _anchor(review: BoardReview) -> list:
    # The trigger log's signed head the review holds, on every row like the quarter.
    anchor = review.trigger_log_anchor
    return [anchor.sequence, anchor.entry_hash] if anchor else ["", ""]


def snapshot_rows(*, review: BoardReview, scale: Scale) -> Iterator[list]:
    anchor = _anchor(review)
    snapshots = (
        ReviewSnapshot.objects.filter(review=review)
        .select_related("risk")
        .order_by("-score", "risk__code")
    )
    for snap in snapshots.iterator(chunk_size=CHUNK):
        yield [
            review.quarter,
            _iso(review.finalised_at),
            snap.risk.code,
            snap.risk.title,
            *_rating(
                scale, snap.likelihood, snap.impact, snap.target_likelihood, snap.target_impact
            ),
            snap.get_status_display(),
            snap.get_confidence_display(),
            _iso(snap.next_review_due),
            *anchor,
        ]


# --- CSV ---------------------------------------------------------------------------------


class _Echo:
    """csv.writer writes into this and hands each line back, so lines stream as written."""

    def write(self, value: str) -> str:
        return value


def _csv_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark, so spreadsheet programs read the file as UTF-8
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_csv_safe(value) for value in row])


def register_csv(*, risks: QuerySet[Risk], scale: Scale) -> Iterator[str]:
    return _csv_lines(REGISTER_HEADER, register_rows(risks=risks, scale=scale))


def snapshot_csv(*, review: BoardReview, scale: Scale) -> Iterator[str]:
    return _csv_lines(SNAPSHOT_HEADER, snapshot_rows(review=review, scale=scale))


# --- XLSX --------------------------------------------------------------------------------

BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def _cell(sheet, value, *, bold: bool = False, band=None, wrap: bool = False):
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if cell.data_type == "f":
        cell.data_type = "s"  # text that happens to start with "=" stays text
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


def _rows_sheet(book: Workbook, header: list[str], rows: Iterable[list]) -> None:
    sheet = book.create_sheet("Risks")
    sheet.freeze_panes = "C2"
    _row(sheet, header, bold=True)
    for row in rows:
        _row(sheet, row)


def _workbook(*, scale: Scale, current: Heatmap, target: Heatmap, note: str, header, rows) -> bytes:
    # Write-only: rows go to the file as they are produced, so a large register fits.
    book = Workbook(write_only=True)
    _scale_sheet(book, scale)
    _grid_sheet(book, "Current grid", current, note)
    _grid_sheet(book, "Target grid", target, note)
    _rows_sheet(book, header, rows)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def register_xlsx(
    *, risks: QuerySet[Risk], scale: Scale, status: str | None = None, as_of=None
) -> bytes:
    """The grids count the risks of the selection that the heatmap would
    (rules.heatmap_includes_closed); the Risks sheet lists the whole selection."""
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
        note=f"the register as of {as_of:%Y-%m-%d}" if as_of else "the register today",
        header=REGISTER_HEADER,
        rows=register_rows(risks=risks, scale=scale),
    )


def _anchor_note(review: BoardReview) -> str:
    anchor = review.trigger_log_anchor
    if anchor is None:
        return ""
    return (
        f"; trigger log head #{anchor.sequence} {anchor.entry_hash}, signed"
        f" {anchor.signed_at:%Y-%m-%d %H:%M:%S} UTC (key {anchor.key_id}): {anchor.signature}"
    )


def snapshot_xlsx(*, review: BoardReview, scale: Scale) -> bytes:
    return _workbook(
        scale=scale,
        current=selectors.review_grid(review=review, basis="current", scale=scale),
        target=selectors.review_grid(review=review, basis="target", scale=scale),
        note=f"as frozen by the {review.quarter} review on {review.finalised_at:%Y-%m-%d}"
        + _anchor_note(review),
        header=SNAPSHOT_HEADER,
        rows=snapshot_rows(review=review, scale=scale),
    )
