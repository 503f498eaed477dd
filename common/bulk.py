"""Writing many rows of one model at once, for services that already checked each row.

Django's `bulk_update` builds a `CASE WHEN pk = ... THEN ...` per field and row, and at a few
hundred rows that costs far more Python than the database spends on the statement (about
5 ms a row, measured in the import). Here, on PostgreSQL, one `UPDATE ... FROM UNNEST(...)`
takes every row's values as one array per column: a statement parsed and planned once for
the whole batch (10,000 rows of the import: 3.7 s as 10,000 pipelined `UPDATE ... WHERE pk =
%s`, 0.9 s this way). Elsewhere (SQLite) the one-row `UPDATE` is sent with `executemany`,
which it runs natively. Like `bulk_update` and `QuerySet.update`, it sends no signals and
calls no `save()`: the caller sets every derived value (version, updated_at) first.

Inserting many rows (`rows_insert`) has the same problem at a larger scale: `bulk_create`
builds a model instance and prepares every value of every row in Python, which was most of
the generator's time at 100,000 risks. On PostgreSQL the rows go through `COPY ... FROM
STDIN` instead (psycopg writes the plain values itself); elsewhere through `bulk_create`.
And a table's secondary indexes and foreign keys cost more than the rows themselves when a
million rows go in one by one: `load_deferred` drops them for the load and builds each
again after it (1,000,545 assessments: 15.4 s with the indexes kept, 5.2 s with them built
after, measured on PostgreSQL 15; see docs/benchmarks.md, "100,000 risks")."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence

from django.db import connections, models, router, transaction

BATCH = 1000


def rows_update(objs: Sequence[models.Model], fields: Iterable[str]) -> None:
    """Write `fields` (names or attnames) of each of `objs`, saved rows of one model."""
    if not objs:
        return
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    columns = [meta.get_field(name) for name in dict.fromkeys(fields)]
    quote = connection.ops.quote_name
    table, key = quote(meta.db_table), quote(meta.pk.column)
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]
        + [meta.pk.get_db_prep_save(obj.pk, connection)]
        for obj in objs
    ]
    # Only quoted names and column types from the model's own metadata are spliced in; every
    # value is a parameter.
    if connection.vendor == "postgresql":
        types = [field.db_type(connection) for field in [*columns, meta.pk]]
        names = [f"c{index}" for index in range(len(types))]
        assignments = ", ".join(
            f"{quote(field.column)} = new.{name}"
            for field, name in zip(columns, names, strict=False)
        )
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        sql = (
            f"UPDATE {table} SET {assignments} "  # noqa: S608  # nosec B608 - quoted model names
            f"FROM UNNEST({arrays}) AS new({', '.join(names)}) WHERE {key} = new.{names[-1]}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(values) for values in zip(*rows, strict=True)])
        return
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608  # nosec B608 - quoted model names
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def rows_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence],
    *,
    ids: bool = False,
) -> list[int] | None:
    """Insert `rows` of `model`: tuples of plain values (int, str, Decimal, date, aware
    datetime, bool, None) in the order of `fields` (attnames), as the database stores them.
    Like `bulk_create` it sends no signals and calls no `save()`; on PostgreSQL it runs no
    `pre_save` either (auto_now fields are written as given; elsewhere `bulk_create` sets
    them unless the caller switches auto_now off around the call). Every other concrete field
    takes its model default, the same for every row. With `ids`, returns the new primary
    keys in the order of `rows`."""
    if not rows:
        return [] if ids else None
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    named = set(fields)
    rest = [
        field
        for field in meta.concrete_fields
        if field.attname not in named and not field.primary_key
    ]
    if connection.vendor != "postgresql":
        defaults = {field.attname: field.get_default() for field in rest}
        objs = [model(**defaults, **dict(zip(fields, row, strict=True))) for row in rows]
        model._default_manager.using(connection.alias).bulk_create(objs, batch_size=BATCH)
        return [obj.pk for obj in objs] if ids else None
    extra = tuple(field.get_db_prep_save(field.get_default(), connection) for field in rest)
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in fields] + [f.column for f in rest]
    table = quote(meta.db_table)
    keys = None
    with connection.cursor() as cursor:
        if ids:
            # Taken from the table's own sequence, so the keys are the ones bulk_create
            # would have given, and a later insert by the ORM continues after them.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            keys = sorted(key for (key,) in cursor.fetchall())
            columns.insert(0, meta.pk.column)
        names = ", ".join(quote(column) for column in columns)
        # Only quoted names from the model's own metadata are spliced in; the rows are data.
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            if keys is None:
                for row in rows:
                    copy.write_row((*row, *extra))
            else:
                for key, row in zip(keys, rows, strict=True):
                    copy.write_row((key, *row, *extra))
    return keys


@contextlib.contextmanager
def load_deferred(*tables: type[models.Model]) -> Iterator[None]:
    """On PostgreSQL, drop the secondary indexes and the foreign keys of `tables` (models)
    for the duration, and create them again from their own definitions at the end: each
    index is then built with one sort, and each foreign key checked with one join, instead
    of row by row. Indexes that enforce something stay: primary keys, unique indexes and
    those behind a constraint. Everything runs in one transaction, so an error brings them
    back with the rollback, and a row that breaks a foreign key fails the load when the key
    is added again. Meanwhile the tables, and the tables they refer to, are locked against
    other sessions (ACCESS EXCLUSIVE: even readers wait). For a bulk load into a database
    nobody is using; a no-op on other databases."""
    connection = connections[router.db_for_write(tables[0])]
    if connection.vendor != "postgresql":
        yield
        return
    names = [[model._meta.db_table for model in tables]]
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = ANY(%s::text[]::regclass[]) "
                "AND NOT i.indisunique AND NOT i.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
                names,
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, quote_ident(conname), "
                "pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = ANY(%s::text[]::regclass[]) AND contype = 'f' ORDER BY 1, 2",
                names,
            )
            keys = cursor.fetchall()
            # Checks still pending from earlier in the transaction would stop the changes:
            # run them now. The keys come back deferred (their definition says so); any
            # other constraint goes back to deferred if that is how it was declared.
            cursor.execute(
                "SELECT quote_ident(conname), contype <> 'f' AND condeferred FROM pg_constraint "
                "WHERE conrelid = ANY(%s::text[]::regclass[]) AND condeferrable ORDER BY 1",
                names,
            )
            deferrable = cursor.fetchall()
            if deferrable:
                constraints = ", ".join(name for name, _ in deferrable)
                cursor.execute(f"SET CONSTRAINTS {constraints} IMMEDIATE")
            if deferred := [name for name, back in deferrable if back]:
                cursor.execute(f"SET CONSTRAINTS {', '.join(deferred)} DEFERRED")
            # Names and definitions as the catalogue spells them (quoted where needed).
            for table, name, _ in keys:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
        yield
        with connection.cursor() as cursor:
            # This transaction only: the memory to sort each index in.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
