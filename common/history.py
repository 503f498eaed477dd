"""The change history (django-simple-history): who saved a record, and why; baseline rows.

Every service names both before it saves (`saved_by`): the user, and the reason, which is
the service that made the change ("risk_update"), the assessment with its rationale, or the
trigger log entry that changed a status. The history row keeps them as `history_user` and
`history_change_reason` (a text column: a rationale is not cut short).

Records that arrive without a save (a fixture, a bulk insert, a restore) get one "created"
row, dated when the record says it began. `as_of` then finds them, and their first real edit
shows only what changed. On PostgreSQL the baselines are one INSERT ... SELECT per model
(with the link snapshots in the same statement); elsewhere they go through simple-history's
`bulk_history_create` in batches. Both read the same query, so both write the same rows."""

from __future__ import annotations

import datetime
import functools
from itertools import islice
from typing import TypeVar

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import DateTimeField, Exists, OuterRef, Q, TextField, Value
from django.db.models.functions import Coalesce
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
    began: models.Expression,
    reason: str,
) -> int:
    """Give every row of `model` that has no history a baseline; returns how many. `began`
    is an expression on the model's row: when the record began (NULL: now). Rows that
    already have history are left alone, so running it again writes nothing."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return 0
    history = model.history.model
    key = model._meta.pk.attname
    now = timezone.now()
    missing = (
        model._default_manager.filter(~Exists(history.objects.filter(**{key: OuterRef(key)})))
        .annotate(
            _baseline_date=Coalesce(began, Value(now), output_field=DateTimeField()),
        )
        .order_by(key)
    )
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        return _baseline_in_sql(model, missing, reason=reason, using=connection.alias)
    rows = missing.iterator(chunk_size=BATCH)
    done = 0
    while batch := list(islice(rows, BATCH)):
        for obj in batch:
            obj._history_date = obj._baseline_date
        with transaction.atomic():
            created = model.history.bulk_history_create(
                batch, default_change_reason=reason, default_date=now
            )
            history_links_snapshot(history, key, batch, created)
        done += len(batch)
    return done


def _baseline_in_sql(model, missing: models.QuerySet, *, reason: str, using: str) -> int:
    """The baselines of `missing` (annotated with `_baseline_date`) in one statement: the
    history rows, then each link table's snapshot of them, as bulk_history_create and
    history_links_snapshot write them (history_user NULL, type "+")."""
    history = model.history.model
    connection = connections[using]
    quote = connection.ops.quote_name
    tracked = [field.attname for field in history.tracked_fields]
    select = missing.annotate(
        _baseline_reason=Value(reason, output_field=TextField()),
        _baseline_type=Value("+"),
    ).values_list(*tracked, "_baseline_date", "_baseline_reason", "_baseline_type")
    sql, params = select.query.get_compiler(using=using).as_sql()
    hmeta = history._meta
    columns = [hmeta.get_field(name).column for name in tracked]
    columns += ["history_date", "history_change_reason", "history_type"]
    key = hmeta.get_field(model._meta.pk.attname).column
    # Only quoted names from the models' own metadata are spliced in; the values are the
    # compiled query's parameters.
    ctes = [
        f"new AS (INSERT INTO {quote(hmeta.db_table)} ({', '.join(map(quote, columns))}) "
        f"{sql} RETURNING {quote(hmeta.pk.column)} AS history_id, {quote(key)} AS record)"
    ]
    for n, field in enumerate(getattr(history, "_history_m2m_fields", [])):
        through = field.remote_field.through._meta
        snapshot = getattr(history, field.name).model._meta
        ends = (field.m2m_field_name(), field.m2m_reverse_field_name())
        own, other = (quote(through.get_field(name).column) for name in ends)
        targets = [snapshot.get_field(name).column for name in ("id", "history", *ends)]
        link, table = quote(through.pk.column), quote(through.db_table)
        select = f"SELECT t.{link}, new.history_id, t.{own}, t.{other} FROM {table} t"  # noqa: S608  # nosec B608
        ctes.append(
            f"links{n} AS (INSERT INTO {quote(snapshot.db_table)} "
            f"({', '.join(map(quote, targets))}) {select} "
            f"JOIN new ON new.record = t.{own} ORDER BY t.{link})"
        )
    statement = f"WITH {', '.join(ctes)} SELECT count(*) FROM new"  # noqa: S608  # nosec B608 - quoted model names, compiled ORM SQL
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def history_tables(model: type[models.Model]) -> list[type[models.Model]]:
    """The tables a baseline of `model` writes: its history and its links' snapshots."""
    history = model.history.model
    fields = getattr(history, "_history_m2m_fields", [])
    return [history, *(getattr(history, field.name).model for field in fields)]


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


@functools.cache
def history_model(model: type[models.Model]) -> type[models.Model]:
    """`model`'s historical model, looked up once: simple-history's `model.history` builds a
    new manager class on every access (`Manager.from_queryset`, about 0.1 ms)."""
    return model.history.model


def history_rows(model: type[models.Model]) -> models.QuerySet:
    """Every history row of `model`, as a plain queryset of its historical model."""
    return history_model(model)._default_manager.all()


def rows_as_of(model: type[models.Model], end: datetime.datetime) -> models.QuerySet:
    """Each record of `model` as it stood at `end`: its latest history row by then, deleted
    ones dropped. Like simple-history's `as_of`, but it returns the historical rows (which
    can be filtered, prefetched and read with values()) and breaks a tie of two rows saved
    in the same microsecond by the later history_id."""
    key = model._meta.pk.attname
    rows = history_rows(model).filter(history_date__lte=end)
    later = rows.filter(**{key: OuterRef(key)}).filter(
        Q(history_date__gt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__gt=OuterRef("history_id"))
    )
    return rows.filter(~Exists(later)).exclude(history_type="-")


def records_as_of(
    model: type[models.Model],
    end: datetime.datetime,
    *,
    where: dict | None = None,
    ids: list | None = None,
    select_related: tuple[str, ...] = (),
) -> list:
    """`rows_as_of(model, end).filter(**where)` (or `.filter(pk__in=ids)`) for the few records
    of one page (a risk, its mitigations and key actions as of a day), as a list, without the
    NOT EXISTS: every row by `end` of each record that matched `where` in some row by then
    (or of each of `ids`), the latest per record kept (a tie broken by the later history_id,
    as rows_as_of does), then dropped if deleted by then or no longer matching. `where` holds
    equalities on plain columns (attname: value).

    Two cheap statements' worth of work instead of one the ORM is slow to build: a record
    whose code or risk changed later still answers as it stood (tests/risks/test_as_of.py)."""
    key = model._meta.pk.attname
    where = where or {}
    rows = history_rows(model).filter(history_date__lte=end)
    matched = ids if ids is not None else rows.filter(**where).values(key)
    latest = {}
    for row in (
        rows.filter(**{f"{key}__in": matched})
        .select_related(*select_related)
        .order_by(key, "history_date", "history_id")
    ):
        latest[getattr(row, key)] = row
    return [
        row
        for row in latest.values()
        if row.history_type != "-" and all(getattr(row, name) == v for name, v in where.items())
    ]
