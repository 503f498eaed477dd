"""The change history (django-simple-history) of the register and the plan, read for the API.

Each tracked model has its own history table. `merged_page` reads them as one timeline: a
single UNION ALL statement over the tables (each filtered first), ordered by (history_date,
model, history_id), which is unique across tables, and continued from a keyset (the last
row's three values), so a cursor never skips or repeats a row however many rows share a
time. Every row carries its diff against the previous record of the same object, read for a
whole page in one query per table.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value

from risks.models import (
    BoardReview,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    Risk,
    RiskAcceptance,
)
from roadmap.models import KeyAction, Metric, MetricReading

# Raised by every save: the diff would name it in every row without telling anything.
NOT_DIFFED = {"version"}


@dataclass(frozen=True)
class Tracked:
    name: str
    model: type[models.Model]
    describe: Callable[[models.Model], str]
    # How a historical row of this model leads to its risk, if it has one.
    risk_id_field: str | None = None

    @property
    def history_model(self) -> type[models.Model]:
        return self.model.history.model

    @property
    def view_permission(self) -> str:
        meta = self.model._meta
        return f"{meta.app_label}.view_{meta.model_name}"


TRACKED: dict[str, Tracked] = {
    t.name: t
    for t in (
        Tracked("risk", Risk, lambda h: f"{h.code}: {h.title}", "id"),
        Tracked("mitigation", MitigationAction, lambda h: h.title, "risk_id"),
        Tracked("key_action", KeyAction, lambda h: h.title),
        Tracked("metric", Metric, lambda h: h.name),
        Tracked("metric_reading", MetricReading, lambda h: f"{h.value} on {h.observed_on}"),
        Tracked(
            "indicator",
            Indicator,
            lambda h: f"{h.get_comparison_display()} {h.threshold}",
            "risk_id",
        ),
        Tracked("breach", IndicatorBreach, lambda h: f"Breach ({h.get_status_display()})"),
        Tracked("review", BoardReview, lambda h: f"Board review {h.quarter}"),
        Tracked(
            "acceptance", RiskAcceptance, lambda h: f"Accepted until {h.expires_on}", "risk_id"
        ),
    )
}
DEFAULT_MODEL = "risk"
# The model's place in the timeline's order: an integer, so the database and Python agree on
# it whatever the collation.
ORDINAL = {name: index for index, name in enumerate(TRACKED)}


def tracked_for(name: str | None) -> Tracked:
    """The tracked model named `name`; the default for no (or an unknown) name, which the
    filter then refuses with a 400."""
    return TRACKED.get(name or DEFAULT_MODEL, TRACKED[DEFAULT_MODEL])


def tracked_by_history_model(history_model) -> Tracked:
    return next(t for t in TRACKED.values() if t.history_model is history_model)


def history_list(tracked: Tracked) -> QuerySet:
    """The model's history, newest first, each row with the id of the previous record of the
    same object and the code of its risk (both subqueries of the same statement)."""
    history = tracked.history_model.objects
    previous = (
        history.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    rows = history.select_related("history_user").annotate(prev_history_id=Subquery(previous))
    if tracked.risk_id_field:
        code = Risk.objects.filter(pk=OuterRef(tracked.risk_id_field)).values("code")[:1]
        rows = rows.annotate(risk_code=Subquery(code))
    elif tracked.model is IndicatorBreach:
        code = Indicator.objects.filter(pk=OuterRef("indicator_id")).values("risk__code")[:1]
        rows = rows.annotate(risk_code=Subquery(code))
    return rows.order_by("-history_date", "-history_id")


def history_for_risk(rows: QuerySet, tracked: Tracked, risk: Risk) -> QuerySet:
    if tracked.risk_id_field:
        return rows.filter(**{tracked.risk_id_field: risk.pk})
    if tracked.model is IndicatorBreach:
        return rows.filter(indicator_id__in=Indicator.objects.filter(risk=risk).values("pk"))
    return rows.none()


def applies_to_risks(tracked: Tracked) -> bool:
    return bool(tracked.risk_id_field) or tracked.model is IndicatorBreach


def plain(value):
    """A JSON value that reads the same in every export."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    return value


def attach_changes(records: Iterable[models.Model], tracked: Tracked) -> list[models.Model]:
    """Set `.changes` ([{field, old, new}]) on each record, against the previous record of the
    same object: one query for the whole batch. A creation lists the values it set."""
    records = list(records)
    wanted = [r.prev_history_id for r in records if r.prev_history_id is not None]
    previous = tracked.history_model.objects.in_bulk(wanted) if wanted else {}
    fields = [f for f in tracked.history_model.tracked_fields if f.name not in NOT_DIFFED]
    for record in records:
        before = previous.get(record.prev_history_id)
        if record.history_type == "-":
            record.changes = []
            continue
        changes = []
        for field in fields:
            new = getattr(record, field.attname)
            old = getattr(before, field.attname) if before is not None else None
            if before is None and new in (None, ""):
                continue
            if before is None or old != new:
                changes.append({"field": field.name, "old": plain(old), "new": plain(new)})
        record.changes = changes
    return records


# --- One timeline over every history table -----------------------------------------------------

# A row's place in the timeline: (history_date, the model's ordinal, history_id).
Key = tuple[datetime.datetime, int, int]


def _beyond(tracked: Tracked, key: Key, ascending: bool) -> Q:
    """Rows of `tracked`'s table that come after `key` in the timeline's order. The model is
    constant within a table, so the three-part comparison reduces to one on the table's own
    columns (and uses its history_date index)."""
    at, ordinal, history_id = key
    op = "gt" if ascending else "lt"
    later = Q(**{f"history_date__{op}": at})
    mine = ORDINAL[tracked.name]
    if mine == ordinal:
        return later | Q(history_date=at, **{f"history_id__{op}": history_id})
    if (mine > ordinal) == ascending:
        return later | Q(history_date=at)
    return later


def merged_keys(
    branches: dict[Tracked, QuerySet], *, after: Key | None, ascending: bool, limit: int
) -> list[Key]:
    """The next `limit` rows' keys after `after`, newest first (or oldest first), over the
    given (already filtered) history tables: one UNION ALL statement."""
    parts = []
    for tracked, rows in branches.items():
        if rows.query.is_empty():
            continue
        if after is not None:
            rows = rows.filter(_beyond(tracked, after, ascending))
        parts.append(
            rows.order_by()
            .annotate(
                h_at=F("history_date"),
                h_model=Value(ORDINAL[tracked.name], output_field=IntegerField()),
                h_id=F("history_id"),
            )
            .values_list("h_at", "h_model", "h_id")
        )
    if not parts:
        return []
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    sign = "" if ascending else "-"
    return list(union.order_by(f"{sign}h_at", f"{sign}h_model", f"{sign}h_id")[:limit])


def records_for(keys: list[Key]) -> list[models.Model]:
    """The history records named by `keys`, in that order, each with `.model_name` and
    `.changes`: per table, one query for the records and one for their previous records."""
    by_model: dict[int, list[int]] = {}
    for _, ordinal, history_id in keys:
        by_model.setdefault(ordinal, []).append(history_id)
    names = list(TRACKED)
    found = {}
    for ordinal, ids in by_model.items():
        tracked = TRACKED[names[ordinal]]
        records = history_list(tracked).filter(history_id__in=ids)
        for record in attach_changes(records, tracked):
            record.model_name = tracked.name
            found[(ordinal, record.history_id)] = record
    return [found[(ordinal, history_id)] for _, ordinal, history_id in keys]


def merged_walk(branches: dict[Tracked, QuerySet], *, ascending: bool, batch: int = 2000):
    """Every row of the timeline, a batch at a time (for exports): 1 + 2 per table queries a
    batch, memory bounded by one batch."""
    after = None
    while True:
        keys = merged_keys(branches, after=after, ascending=ascending, limit=batch)
        yield from records_for(keys)
        if len(keys) < batch:
            return
        after = keys[-1]
