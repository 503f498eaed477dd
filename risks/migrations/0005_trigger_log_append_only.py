"""The database refuses UPDATE and DELETE on the trigger log, whoever connects.

SQLite rebuilds a table for most ALTERs and the rebuild drops its triggers: a later migration
that alters risks_triggerentry must run `protect` again. TRUNCATE is not refused on
PostgreSQL, because test teardown and `flush` rely on it; the hash chain and an externally
kept copy of the head hash (printed by verify_trigger_log) expose that.
"""

from django.db import migrations

TABLE = "risks_triggerentry"

POSTGRESQL_PROTECT = [
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'The trigger log is append-only: ' || TG_OP || ' refused.',
            ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    f"""
    CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
    """,
]
POSTGRESQL_UNPROTECT = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]

SQLITE_PROTECT = [
    f"""
    CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'The trigger log is append-only: UPDATE refused.'); END
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'The trigger log is append-only: DELETE refused.'); END
    """,
]
SQLITE_UNPROTECT = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
]

STATEMENTS = {
    "postgresql": (POSTGRESQL_PROTECT, POSTGRESQL_UNPROTECT),
    "sqlite": (SQLITE_PROTECT, SQLITE_UNPROTECT),
}


def _statements(vendor: str, *, forward: bool) -> list[str]:
    if vendor not in STATEMENTS:
        # Silently skipping would leave the log editable; refuse to migrate instead.
        raise RuntimeError(f"No append-only trigger for the {vendor!r} database backend.")
    protect, unprotect = STATEMENTS[vendor]
    return protect if forward else unprotect


def protect(apps, schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, forward=True):
        # params=None: the SQL goes to the database as written, '%' and all.
        schema_editor.execute(sql, params=None)


def unprotect(apps, schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, forward=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("risks", "0004_trigger_log_and_indicators")]
    operations = [migrations.RunPython(protect, unprotect)]
