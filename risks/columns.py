"""The register's columns, defined once: the API's CSV (`/api/v1/risks/?format=csv`), the
board's CSV (`/risks/export.csv`) and the XLSX "Risks" sheet all read this tuple.

Each column has a stable machine `name` (the API's header: the flattened JSON key), a human
`header` (the board's files), a `value` read from one register row, and a `kind` that says how
each format writes it (a date is ISO text in CSV and a real date in XLSX; a choice is its value
for machines and its label for people).

Rows come from `values()` in chunks, never a model instance or serializer per risk, so a
10,000-risk export takes seconds and keeps memory flat. The values read the queryset's row
only, so the register as of a past day (selectors.risks_as_of: history rows under the same
field names) flows through every export unchanged; "review overdue" is judged on that day."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from risks import rules
from risks.models import Axis, BoardReview, Confidence, ReviewSnapshot, Risk
from risks.selectors import Scale, risk_links_by_row

CHUNK = 1000
MACHINE, HUMAN, XLSX = "machine", "human", "xlsx"

# Column kinds: how a value is written. `text` is the default.
TEXT, LONG_TEXT, INT, BOOL, DATE, DATETIME, LIST = (
    "text",
    "long_text",
    "int",
    "bool",
    "date",
    "datetime",
    "list",
)


@dataclass(frozen=True)
class RowContext:
    scale: Scale
    on: datetime.date  # the day the rows show: today, or the `as_of` day
    links: dict[str, str]


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    value: Callable[[dict, RowContext], object]
    kind: str = TEXT
    choices: dict[str, str] = field(default_factory=dict)
    width: int | None = None
    # The API's JSON field the column flattens from (`likelihood` for `likelihood_level`): ""
    # is the column's own name; None, a column of the files only.
    json: str | None = ""

    @property
    def json_field(self) -> str | None:
        return self.name if self.json == "" else self.json

    def formatter(self, style: str) -> Callable[[dict, RowContext], object]:
        """A function from (row, context) to the cell in that style."""
        read, kind, choices = self.value, self.kind, self.choices
        if kind == LIST:
            return lambda row, ctx: "; ".join(str(v) for v in read(row, ctx))
        if choices and style != MACHINE:
            return lambda row, ctx: choices.get(value := read(row, ctx), value)
        if kind == BOOL and style == HUMAN:
            return lambda row, ctx: {True: "Yes", False: "No"}.get(read(row, ctx))
        if kind == DATE and style != XLSX:
            return lambda row, ctx: _iso_date(read(row, ctx))
        if kind == DATETIME:
            convert = _naive_utc if style == XLSX else _iso_datetime
            return lambda row, ctx: convert(read(row, ctx))
        return read


def _iso_date(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _iso_datetime(value: datetime.datetime | None) -> str | None:
    # What DRF's DateTimeField renders in UTC, without its per-value overhead.
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _naive_utc(value: datetime.datetime | None) -> datetime.datetime | None:
    # XLSX has no time zones: the sheet says its times are UTC.
    return None if value is None else value.astimezone(datetime.UTC).replace(tzinfo=None)


def _field(name: str) -> Callable[[dict, RowContext], object]:
    return lambda row, ctx: row[name]


def _level_columns(prefix: str, field_name: str, axis: str, human: str) -> tuple[Column, ...]:
    # In JSON one object, {"level": 4, "label": "Medium-High"}; in the files two columns.
    return (
        Column(f"{prefix}_level", f"{human} level", _field(field_name), INT, width=10, json=prefix),
        Column(
            f"{prefix}_label",
            human,
            lambda row, ctx: ctx.scale.label(axis, row[field_name]) or None,
            width=14,
            json=prefix,
        ),
    )


def _band(score: int | None, ctx: RowContext) -> str | None:
    band = ctx.scale.band_for(score)
    return band.name if band else None


def _above_appetite(row: dict, ctx: RowContext) -> bool | None:
    return rules.above_appetite(row["score"], ctx.scale.appetite_score)


def _review_overdue(row: dict, ctx: RowContext) -> bool:
    return rules.is_overdue(next_review_due=row["next_review_due"], status=row["status"], on=ctx.on)


def _link(name: str, suffix: str = "") -> Callable[[dict, RowContext], str]:
    return lambda row, ctx: f"{ctx.links[name]}?risk={row['code']}{suffix}"


def _choices(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


REGISTER_COLUMNS: tuple[Column, ...] = (
    Column("code", "Code", _field("code"), width=8),
    Column("title", "Title", _field("title"), width=40),
    Column("statement", "Risk statement", _field("statement"), LONG_TEXT),
    Column("category", "Category", _field("category"), choices=_choices(Risk.Category.choices)),
    Column("status", "Status", _field("status"), choices=_choices(Risk.Status.choices)),
    Column("owner", "Owner", _field("owner"), width=24),
    Column("owner_agency", "Owner agency", _field("owner_agency__code")),
    Column("supporting_agencies", "Supporting agencies", _field("supporting_agencies"), LIST),
    Column("phases", "Phases", _field("phases"), LIST, width=10),
    Column("key_actions", "Key actions (ids)", _field("key_actions"), LIST),
    *_level_columns("likelihood", "likelihood", Axis.LIKELIHOOD, "Likelihood"),
    *_level_columns("impact", "impact", Axis.IMPACT, "Impact"),
    Column("score", "Score", _field("score"), INT, width=8),
    Column("rating", "Rating", lambda row, ctx: _band(row["score"], ctx), width=12),
    Column("above_appetite", "Above appetite", _above_appetite, BOOL),
    Column("confidence", "Confidence", _field("confidence"), choices=_choices(Confidence.choices)),
    Column("last_assessed_at", "Last assessed (UTC)", _field("last_assessed_at"), DATETIME),
    *_level_columns(
        "inherent_likelihood", "inherent_likelihood", Axis.LIKELIHOOD, "Inherent likelihood"
    ),
    *_level_columns("inherent_impact", "inherent_impact", Axis.IMPACT, "Inherent impact"),
    *_level_columns("target_likelihood", "target_likelihood", Axis.LIKELIHOOD, "Target likelihood"),
    *_level_columns("target_impact", "target_impact", Axis.IMPACT, "Target impact"),
    Column("target_score", "Target score", _field("target_score"), INT, width=8),
    Column(
        "target_rating",
        "Target rating",
        lambda row, ctx: _band(row["target_score"], ctx),
        width=12,
        json=None,  # the files' convenience: the API gives target_score, and the scale
    ),
    Column("response", "Response", _field("response"), choices=_choices(Risk.Response.choices)),
    Column("mitigation_strategy", "Mitigation strategy", _field("mitigation_strategy"), LONG_TEXT),
    Column("contingency_plan", "Contingency plan", _field("contingency_plan"), LONG_TEXT),
    Column("trigger_conditions", "Trigger conditions", _field("trigger_conditions"), LONG_TEXT),
    Column("review_frequency_days", "Review every (days)", _field("review_frequency_days"), INT),
    Column("next_review_due", "Next review due", _field("next_review_due"), DATE),
    Column("review_overdue", "Review overdue", _review_overdue, BOOL),
    Column("closure_reason", "Closure reason", _field("closure_reason"), LONG_TEXT),
    Column("closed_by", "Closed by", _field("closed_by__username")),
    Column("closed_at", "Closed (UTC)", _field("closed_at"), DATETIME),
    Column(
        "open_breaches",
        "Open indicator breaches",
        lambda row, ctx: row.get("open_breach_count") or 0,
        INT,
    ),
    Column("created_at", "Created (UTC)", _field("created_at"), DATETIME),
    Column("updated_at", "Updated (UTC)", _field("updated_at"), DATETIME),
    Column("version", "Version", _field("version"), INT, width=8),
    Column(
        "links_self",
        "API record",
        lambda row, ctx: f"{ctx.links['risk']}{row['code']}/",
        json="links",
    ),
    Column(
        "links_page",
        "Page",
        lambda row, ctx: f"{ctx.links['page']}{row['code']}/",
        json="links",
    ),
    Column("links_assessments", "API assessments", _link("assessment"), json="links"),
    Column("links_mitigations", "API mitigations", _link("mitigationaction"), json="links"),
    Column("links_triggers", "API trigger log", _link("triggerentry"), json="links"),
    Column("links_indicators", "API indicators", _link("indicator"), json="links"),
    Column(
        "links_breaches",
        "API open breaches",
        _link("indicatorbreach", "&status=open"),
        json="links",
    ),
    Column("links_history", "API history", _link("history", "&model=risk"), json="links"),
)

# A risk in the API's JSON (RiskSerializer): the register's columns, nested where the files
# flatten (a level's `_level` and `_label`, the `links_`), in the same order. The names are the
# API's contract (DESIGN.md section 3): a new column adds a field, none is renamed.
API_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(c.json_field for c in REGISTER_COLUMNS if c.json_field is not None)
)

# The admin's risk list (risks/admin.py): these register columns, in this order.
ADMIN_LIST: tuple[str, ...] = (
    "code",
    "title",
    "owner",
    "owner_agency",
    "score",
    "rating",
    "status",
    "next_review_due",
)


def column(name: str) -> Column:
    """The register column called `name`."""
    return next(c for c in REGISTER_COLUMNS if c.name == name)


# What the rows read from the database; many-to-many lists are added a chunk at a time.
VALUES = (
    "pk",
    "code",
    "title",
    "statement",
    "category",
    "status",
    "owner",
    "owner_agency__code",
    "likelihood",
    "impact",
    "score",
    "confidence",
    "last_assessed_at",
    "inherent_likelihood",
    "inherent_impact",
    "target_likelihood",
    "target_impact",
    "response",
    "mitigation_strategy",
    "contingency_plan",
    "trigger_conditions",
    "review_frequency_days",
    "next_review_due",
    "closure_reason",
    "closed_by__username",
    "closed_at",
    "created_at",
    "updated_at",
    "version",
)


def header(style: str) -> list[str]:
    return [c.name if style == MACHINE else c.header for c in REGISTER_COLUMNS]


def row_context(*, scale: Scale, request=None, as_of: datetime.date | None = None) -> RowContext:
    """Links are absolute when there is a request, and never carry its query string."""

    def url(path: str) -> str:
        return request.build_absolute_uri(path) if request is not None else path

    names = ("risk", "assessment", "mitigationaction", "triggerentry", "indicator")
    links = {name: url(reverse(f"api:{name}-list")) for name in names}
    links["indicatorbreach"] = url(reverse("api:indicatorbreach-list"))
    links["history"] = url(reverse("api:history-list"))
    links["page"] = "/risks/"  # as the JSON's links.page: a path on this site
    return RowContext(scale=scale, on=as_of or timezone.localdate(), links=links)


def register_rows(queryset: QuerySet) -> Iterator[dict]:
    """One dict per risk, in the queryset's order, read `CHUNK` rows at a time. The queryset
    is the live register or its rows as of a day (selectors.risks_as_of): the same field
    names either way, and a field the queryset annotates (e.g. `updated_at` of a past row)
    is read from the annotation."""
    annotated = queryset.query.annotations
    names = [name for name in VALUES if name not in annotated]
    extra = [name for name in (*VALUES, "open_breach_count") if name in annotated]
    rows = queryset.prefetch_related(None).values(*names, *extra).iterator(CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        links = risk_links_by_row(queryset, [row["pk"] for row in chunk])
        for row in chunk:
            row["target_score"] = rules.score(row["target_likelihood"], row["target_impact"])
            for link, by_row in links.items():
                row[link] = by_row.get(row["pk"], [])
            yield row


def table(
    cols: tuple[Column, ...],
    rows: Iterable[dict],
    *,
    style: str,
    scale: Scale,
    request=None,
    as_of: datetime.date | None = None,
) -> Iterator[list]:
    """Each row as a list of cells, one per column, in `style` (MACHINE, HUMAN or XLSX)."""
    ctx = row_context(scale=scale, request=request, as_of=as_of)
    formatters = [column.formatter(style) for column in cols]
    for row in rows:
        yield [format_(row, ctx) for format_ in formatters]


def register_table(
    queryset: QuerySet,
    *,
    style: str,
    scale: Scale,
    request=None,
    as_of: datetime.date | None = None,
) -> Iterator[list]:
    """Every risk of the queryset (live, or as of a day) in the register's columns."""
    return table(
        REGISTER_COLUMNS,
        register_rows(queryset),
        style=style,
        scale=scale,
        request=request,
        as_of=as_of,
    )


# A board review's frozen snapshot: one row per risk open when the review was finalised.
SNAPSHOT_COLUMNS: tuple[Column, ...] = (
    Column("review", "Review", _field("review"), width=10),
    Column("finalised_at", "Finalised (UTC)", _field("finalised_at"), DATETIME),
    Column("code", "Code", _field("code"), width=8),
    Column("title", "Title", _field("title"), width=40),
    *_level_columns("likelihood", "likelihood", Axis.LIKELIHOOD, "Likelihood"),
    *_level_columns("impact", "impact", Axis.IMPACT, "Impact"),
    Column("score", "Score", _field("score"), INT, width=8),
    Column("rating", "Rating", lambda row, ctx: _band(row["score"], ctx), width=12),
    *_level_columns("target_likelihood", "target_likelihood", Axis.LIKELIHOOD, "Target likelihood"),
    *_level_columns("target_impact", "target_impact", Axis.IMPACT, "Target impact"),
    Column("target_score", "Target score", _field("target_score"), INT, width=8),
    Column(
        "target_rating",
        "Target rating",
        lambda row, ctx: _band(row["target_score"], ctx),
        width=12,
    ),
    Column("status", "Status", _field("status"), choices=_choices(Risk.Status.choices)),
    Column("confidence", "Confidence", _field("confidence"), choices=_choices(Confidence.choices)),
    Column("next_review_due", "Next review due", _field("next_review_due"), DATE),
    # The trigger log's signed head the review holds, on every row like the quarter.
    Column("trigger_log_sequence", "Trigger log head #", _field("trigger_log_sequence"), INT),
    Column("trigger_log_head", "Trigger log head hash", _field("trigger_log_head"), width=20),
)


def snapshot_rows(review: BoardReview) -> Iterator[dict]:
    anchor = review.trigger_log_anchor
    snapshots = (
        ReviewSnapshot.objects.filter(review=review)
        .select_related("risk")
        .order_by("-score", "risk__code")
    )
    for snap in snapshots.iterator(chunk_size=CHUNK):
        yield {
            "review": review.quarter,
            "finalised_at": review.finalised_at,
            "code": snap.risk.code,
            "title": snap.risk.title,
            "likelihood": snap.likelihood,
            "impact": snap.impact,
            "score": snap.score,
            "target_likelihood": snap.target_likelihood,
            "target_impact": snap.target_impact,
            "target_score": rules.score(snap.target_likelihood, snap.target_impact),
            "status": snap.status,
            "confidence": snap.confidence,
            "next_review_due": snap.next_review_due,
            "trigger_log_sequence": anchor.sequence if anchor else None,
            "trigger_log_head": anchor.entry_hash if anchor else "",
        }


def snapshot_table(*, review: BoardReview, style: str, scale: Scale) -> Iterator[list]:
    return table(SNAPSHOT_COLUMNS, snapshot_rows(review), style=style, scale=scale)
