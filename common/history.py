"""The change history (django-simple-history): who saved a record, and why; baseline rows.

Every service names both before it saves (`saved_by`): the user, and the reason, which is
the service that made the change ("risk_update"), the assessment with its rationale, or the
trigger log entry that changed a status. The history row keeps them as `history_user` and
`history_change_reason` (a text column: a rationale is not cut short).

Records that arrive without a save (a fixture, a bulk insert, a restore) get one "created"
row, dated when the record says it began. `as_of` then finds them, and their first real edit
shows only what changed."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from itertools import islice
from typing import TypeVar

from django.db import connections, models, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

BATCH = 500

T = TypeVar("T")
_UNSET = object()


def saved_by(instance: T, *, reason: str, user=_UNSET) -> T:
    """Set the user (if given) and the reason the next history row of `instance` records.

    Always set, so a reason from an earlier save of the same instance is never repeated."""
    if user is not _UNSET:
        instance._history_user = user
    instance._change_reason = reason.strip() or None
    return instance


def history_baseline(
    model: type[models.Model],
    *,
    began: Callable[[models.Model], datetime.datetime | None],
    reason: str,
) -> int:
    """Give every row of `model` that has no history a baseline; returns how many. Rows that
    already have history are left alone, so running it again writes nothing."""
    history = model.history.model
    key = model._meta.pk.attname
    missing = model._default_manager.exclude(
        **{f"{key}__in": history.objects.values(key)}
    ).order_by(key)
    rows = missing.iterator(chunk_size=BATCH)
    done = 0
    now = timezone.now()
    while batch := list(islice(rows, BATCH)):
        for obj in batch:
            obj._history_date = began(obj) or now
        with transaction.atomic():
            created = model.history.bulk_history_create(
                batch, default_change_reason=reason, default_date=now
            )
            history_links_snapshot(history, key, batch, created)
        done += len(batch)
    return done


def history_links_snapshot(history, key: str, objs: list, created: list) -> None:
    """The many-to-many snapshot each history row in `created` (one per record of `objs`)
    carries (history with m2m_fields): per link table, one `INSERT ... SELECT` that copies the
    records' current links against their new history rows, in the database (building the
    snapshot rows in Python cost more than the rest of an import's history)."""
    fields = getattr(history, "_history_m2m_fields", [])
    if not fields or not created:
        return
    connection = connections[router.db_for_write(history)]
    quote = connection.ops.quote_name
    meta = history._meta
    history_key = quote(meta.pk.column)
    record_key = quote(meta.get_field(key).column)
    ids = [row.pk for row in created]
    for field in fields:
        through = field.remote_field.through._meta
        snapshot = getattr(history, field.name).model._meta
        own, other = field.m2m_field_name(), field.m2m_reverse_field_name()
        columns = ", ".join(
            quote(snapshot.get_field(name).column) for name in ("id", own, other, "history")
        )
        link = ", ".join(
            f"link.{quote(through.get_field(name).column)}" for name in ("id", own, other)
        )
        for start in range(0, len(ids), BATCH):
            some = ids[start : start + BATCH]
            # Only quoted names from the models' own metadata are spliced in; the ids are
            # parameters.
            sql = (
                f"INSERT INTO {quote(snapshot.db_table)} ({columns}) "  # noqa: S608  # nosec B608 - quoted model names
                f"SELECT {link}, record.{history_key} FROM {quote(through.db_table)} link "
                f"JOIN {quote(meta.db_table)} record "
                f"ON record.{record_key} = link.{quote(through.get_field(own).column)} "
                f"WHERE record.{history_key} IN ({', '.join(['%s'] * len(some))})"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, some)


def history_bulk_record(
    model: type[models.Model], objs: list, *, update: bool, date: datetime.datetime
) -> None:
    """One history row for each of `objs`, saved with `bulk_create`/`bulk_update` (which
    skip the signals simple-history listens to), with its links' snapshot; the user and
    reason are the ones `saved_by` set on each. Call after the links are written."""
    if not objs:
        return
    history = model.history.model
    created = model.history.bulk_history_create(
        objs, update=update, default_date=date, batch_size=BATCH
    )
    history_links_snapshot(history, model._meta.pk.attname, objs, created)


def rows_as_of(model: type[models.Model], end: datetime.datetime) -> models.QuerySet:
    """Each record of `model` as it stood at `end`: its latest history row by then, deleted
    ones dropped. Like simple-history's `as_of`, but it returns the historical rows (which
    can be filtered, prefetched and read with values()) and breaks a tie of two rows saved
    in the same microsecond by the later history_id."""
    key = model._meta.pk.attname
    rows = model.history.filter(history_date__lte=end)
    later = rows.filter(**{key: OuterRef(key)}).filter(
        Q(history_date__gt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__gt=OuterRef("history_id"))
    )
    return rows.filter(~Exists(later)).exclude(history_type="-")
