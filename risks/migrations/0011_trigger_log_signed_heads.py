"""Signed heads for the trigger log, and a hash that covers only what an entry stores.

- Entries store the risk code and the recorder's username as written at the time; the hash
  covers those, not the risk's internal id and the user's current name.
- Every head of the chain is signed (Ed25519, key outside the database: common.signing) and
  kept in risks_triggercheckpoint, append-only like the entries.
- A finalised board review holds the signed head at that moment (its anchor).
- Database triggers: entries and signed heads refuse UPDATE and DELETE; the head row may only
  name the last entry, once that entry's head is signed, and is never deleted; TRUNCATE of any
  of the three tables is refused on PostgreSQL unless the session allows it for maintenance
  (SET risks.trigger_log_truncate = 'allow'; test teardown uses it).

Existing entries are first checked under the old hash (risk id, current username): a broken
chain stops the migration, since re-hashing it would launder the tampering. Then they are
re-hashed under the new form, each head is signed with the configured key, and each finalised
review is anchored to the last entry recorded before it was finalised. Head hashes printed
before this migration no longer apply; print the new one with `verify_trigger_log`.

SQLite rebuilds a table for most ALTERs and the rebuild drops its triggers: a later migration
that alters one of these tables must run `protect` again.
"""

import datetime
import hashlib
import importlib
import json

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

from common import signing

GENESIS_HASH = "0" * 64
ENTRIES, CHECKPOINTS, HEAD = "risks_triggerentry", "risks_triggercheckpoint", "risks_triggerchainhead"
TRUNCATE_SETTING = "risks.trigger_log_truncate"

POSTGRESQL_PROTECT = [
    f"""
    CREATE OR REPLACE FUNCTION {ENTRIES}_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'The trigger log is append-only: ' || TG_OP || ' refused on ' || TG_TABLE_NAME || '.',
            ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    f"DROP TRIGGER IF EXISTS {ENTRIES}_append_only ON {ENTRIES}",
    f"""
    CREATE TRIGGER {ENTRIES}_append_only BEFORE UPDATE OR DELETE ON {ENTRIES}
    FOR EACH ROW EXECUTE FUNCTION {ENTRIES}_append_only()
    """,
    f"""
    CREATE TRIGGER {CHECKPOINTS}_append_only BEFORE UPDATE OR DELETE ON {CHECKPOINTS}
    FOR EACH ROW EXECUTE FUNCTION {ENTRIES}_append_only()
    """,
    f"""
    CREATE OR REPLACE FUNCTION {HEAD}_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        last_sequence bigint := 0;
        last_hash varchar := '{GENESIS_HASH}';
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION USING
                MESSAGE = 'The trigger log''s head cannot be deleted.',
                ERRCODE = 'restrict_violation';
        END IF;
        SELECT sequence, entry_hash INTO last_sequence, last_hash
        FROM {ENTRIES} ORDER BY sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            last_sequence := 0;
            last_hash := '{GENESIS_HASH}';
        END IF;
        IF NEW.sequence <> last_sequence OR NEW.entry_hash <> last_hash THEN
            RAISE EXCEPTION USING
                MESSAGE = 'The trigger log''s head must name its last entry (#'
                    || last_sequence || ').',
                ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.sequence > 0 AND NOT EXISTS (
            SELECT 1 FROM {CHECKPOINTS} c JOIN {ENTRIES} e ON e.id = c.entry_id
            WHERE c.kind = 'append' AND e.sequence = NEW.sequence
              AND c.sequence = NEW.sequence AND c.entry_hash = NEW.entry_hash
        ) THEN
            RAISE EXCEPTION USING
                MESSAGE = 'The trigger log''s head moves only to an entry whose head is signed.',
                ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    f"""
    CREATE TRIGGER {HEAD}_guard BEFORE INSERT OR UPDATE OR DELETE ON {HEAD}
    FOR EACH ROW EXECUTE FUNCTION {HEAD}_guard()
    """,
    f"""
    CREATE OR REPLACE FUNCTION risks_trigger_log_no_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('{TRUNCATE_SETTING}', true) IS DISTINCT FROM 'allow' THEN
            RAISE EXCEPTION USING
                MESSAGE = 'The trigger log is append-only: TRUNCATE refused on '
                    || TG_TABLE_NAME || '.',
                ERRCODE = 'restrict_violation';
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    *(
        f"""
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION risks_trigger_log_no_truncate()
        """
        for table in (ENTRIES, CHECKPOINTS, HEAD)
    ),
]
POSTGRESQL_UNPROTECT = [
    *(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in (ENTRIES, CHECKPOINTS, HEAD)),
    "DROP FUNCTION IF EXISTS risks_trigger_log_no_truncate()",
    f"DROP TRIGGER IF EXISTS {HEAD}_guard ON {HEAD}",
    f"DROP FUNCTION IF EXISTS {HEAD}_guard()",
    f"DROP TRIGGER IF EXISTS {CHECKPOINTS}_append_only ON {CHECKPOINTS}",
    f"DROP TRIGGER IF EXISTS {ENTRIES}_append_only ON {ENTRIES}",
]

_SQLITE_LAST_SEQUENCE = f"COALESCE((SELECT MAX(sequence) FROM {ENTRIES}), 0)"
_SQLITE_LAST_HASH = (
    f"COALESCE((SELECT entry_hash FROM {ENTRIES} ORDER BY sequence DESC LIMIT 1), '{GENESIS_HASH}')"
)
_SQLITE_HEAD_WRONG = f"""
    NEW.sequence IS NOT {_SQLITE_LAST_SEQUENCE}
    OR NEW.entry_hash IS NOT {_SQLITE_LAST_HASH}
    OR (NEW.sequence > 0 AND NOT EXISTS (
        SELECT 1 FROM {CHECKPOINTS} c JOIN {ENTRIES} e ON e.id = c.entry_id
        WHERE c.kind = 'append' AND e.sequence = NEW.sequence
          AND c.sequence = NEW.sequence AND c.entry_hash = NEW.entry_hash
    ))
"""
SQLITE_PROTECT = [
    *(
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, 'The trigger log is append-only: {op} refused.'); END
        """
        for table in (ENTRIES, CHECKPOINTS)
        for op in ("UPDATE", "DELETE")
    ),
    *(
        f"""
        CREATE TRIGGER IF NOT EXISTS {HEAD}_guard_{op.lower()} BEFORE {op} ON {HEAD}
        WHEN {_SQLITE_HEAD_WRONG}
        BEGIN SELECT RAISE(ABORT,
            'The trigger log''s head must name its last entry, once that entry''s head is signed.');
        END
        """
        for op in ("INSERT", "UPDATE")
    ),
    f"""
    CREATE TRIGGER IF NOT EXISTS {HEAD}_no_delete BEFORE DELETE ON {HEAD}
    BEGIN SELECT RAISE(ABORT, 'The trigger log''s head cannot be deleted.'); END
    """,
]
SQLITE_UNPROTECT = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_no_{op}"
        for table in (ENTRIES, CHECKPOINTS, HEAD)
        for op in ("update", "delete")
    ),
    f"DROP TRIGGER IF EXISTS {HEAD}_guard_insert",
    f"DROP TRIGGER IF EXISTS {HEAD}_guard_update",
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
        schema_editor.execute(sql, params=None)


def unprotect(apps, schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, forward=False):
        schema_editor.execute(sql, params=None)


def _unprotect_entries(apps, schema_editor) -> None:
    # The 0005 guard, so the backfill may rewrite the entries; `protect` puts it back.
    vendor = schema_editor.connection.vendor
    statements = {
        "postgresql": [f"DROP TRIGGER IF EXISTS {ENTRIES}_append_only ON {ENTRIES}"],
        "sqlite": [f"DROP TRIGGER IF EXISTS {ENTRIES}_no_update", f"DROP TRIGGER IF EXISTS {ENTRIES}_no_delete"],
    }
    if vendor not in statements:
        raise RuntimeError(f"No append-only trigger for the {vendor!r} database backend.")
    for sql in statements[vendor]:
        schema_editor.execute(sql, params=None)


def _protect_entries_as_0005(apps, schema_editor) -> None:
    importlib.import_module("risks.migrations.0005_trigger_log_append_only").protect(
        apps, schema_editor
    )


# --- The backfill: frozen copies of both canonical forms, as they were at this migration ----


def _instant(value):
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _digest(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text_fields(entry) -> dict:
    return {
        "sequence": entry.sequence,
        "kind": entry.kind,
        "reason": entry.reason,
        "evidence": entry.evidence,
        "actions_taken": entry.actions_taken,
        "authorised_by": entry.authorised_by,
        "previous_status": entry.previous_status,
        "prev_hash": entry.prev_hash,
        "recorded_at": _instant(entry.recorded_at),
    }


def _old_digest(entry) -> str:
    return _digest({**_text_fields(entry), "risk": entry.risk_id, "recorded_by": entry.recorded_by.username})


def _new_digest(entry) -> str:
    return _digest(
        {**_text_fields(entry), "risk": entry.risk_code, "recorded_by": entry.recorded_by_username}
    )


def _to_the_millisecond(value):
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _checkpoint(Checkpoint, *, origin, sequence, entry_hash, signed_at, entry=None):
    text = f"{origin}\n{sequence}\n{entry_hash}\n{_instant(signed_at)}\n"
    return Checkpoint(
        kind="append" if entry else "anchor",
        entry=entry,
        sequence=sequence,
        entry_hash=entry_hash,
        signed_at=signed_at,
        origin=origin,
        key_id=signing.key_id(),
        signature=signing.sign(text.encode("utf-8")),
    )


def backfill(apps, schema_editor) -> None:
    from django.conf import settings

    Entry = apps.get_model("risks", "TriggerEntry")
    Checkpoint = apps.get_model("risks", "TriggerCheckpoint")
    Head = apps.get_model("risks", "TriggerChainHead")
    Review = apps.get_model("risks", "BoardReview")
    entries = list(Entry.objects.select_related("risk", "recorded_by").order_by("sequence"))
    reviews = list(Review.objects.filter(status="final").order_by("finalised_at", "quarter"))
    if not entries and not reviews:
        return
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
    previous = GENESIS_HASH
    for number, entry in enumerate(entries, start=1):
        if (entry.sequence, entry.prev_hash, _old_digest(entry)) != (number, previous, entry.entry_hash):
            raise RuntimeError(
                f"The trigger log is broken at entry #{entry.sequence} (id {entry.pk}) under its "
                "old hash: it cannot be re-hashed and signed. Investigate with the previous "
                "release's verify_trigger_log first."
            )
        previous = entry.entry_hash
    head = Head.objects.filter(pk=1).first()
    if entries and (head is None or (head.sequence, head.entry_hash) != (len(entries), previous)):
        raise RuntimeError("The trigger log's head does not name its last entry: investigate first.")

    origin = settings.TRIGGER_LOG_ORIGIN
    previous, heads = GENESIS_HASH, []
    for entry in entries:
        entry.risk_code = entry.risk.code
        entry.recorded_by_username = entry.recorded_by.username
        entry.prev_hash = previous
        entry.entry_hash = previous = _new_digest(entry)
        Entry.objects.filter(pk=entry.pk).update(
            risk_code=entry.risk_code,
            recorded_by_username=entry.recorded_by_username,
            prev_hash=entry.prev_hash,
            entry_hash=entry.entry_hash,
        )
        _checkpoint(
            Checkpoint,
            origin=origin,
            sequence=entry.sequence,
            entry_hash=entry.entry_hash,
            signed_at=entry.recorded_at,
            entry=entry,
        ).save(force_insert=True)
        heads.append((entry.recorded_at, entry.sequence, entry.entry_hash))
    if entries:
        Head.objects.filter(pk=1).update(sequence=len(entries), entry_hash=previous)
    for review in reviews:
        finalised_at = _to_the_millisecond(review.finalised_at)
        before = [h for h in heads if h[0] <= finalised_at]
        _, sequence, entry_hash = max(before, key=lambda h: h[1]) if before else (None, 0, GENESIS_HASH)
        anchor = _checkpoint(
            Checkpoint, origin=origin, sequence=sequence, entry_hash=entry_hash, signed_at=finalised_at
        )
        anchor.save(force_insert=True)
        Review.objects.filter(pk=review.pk).update(finalised_at=finalised_at, trigger_log_anchor=anchor)


class Migration(migrations.Migration):

    dependencies = [
        ('risks', '0010_history_of_links_and_derived_review'),
    ]

    operations = [
        migrations.RunPython(_unprotect_entries, _protect_entries_as_0005),
        migrations.AddField(
            model_name='triggerentry',
            name='recorded_by_username',
            field=models.CharField(default='', editable=False, help_text="The recorder's username when recorded.", max_length=150),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='triggerentry',
            name='risk_code',
            field=models.CharField(default='', editable=False, help_text="The risk's code when the entry was recorded.", max_length=20),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name='TriggerCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('append', 'Entry appended'), ('anchor', 'Board review anchor')], editable=False, max_length=10)),
                ('sequence', models.PositiveBigIntegerField(editable=False, help_text='0: an empty log.')),
                ('entry_hash', models.CharField(editable=False, max_length=64, validators=[django.core.validators.RegexValidator('^[0-9a-f]{64}$', 'A SHA-256 hex digest (64 lowercase hex digits).')])),
                ('signed_at', models.DateTimeField(editable=False)),
                ('origin', models.CharField(editable=False, max_length=200)),
                ('key_id', models.CharField(editable=False, max_length=16)),
                ('signature', models.CharField(editable=False, max_length=100)),
                ('entry', models.OneToOneField(editable=False, help_text="The entry whose appending made this head (none for a review's anchor).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='checkpoint', to='risks.triggerentry')),
            ],
            options={
                'ordering': ['sequence', 'signed_at'],
            },
        ),
        migrations.AddField(
            model_name='boardreview',
            name='trigger_log_anchor',
            field=models.OneToOneField(blank=True, editable=False, help_text="The trigger log's signed head when the review was finalised.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='review', to='risks.triggercheckpoint'),
        ),
        migrations.AddField(
            model_name='historicalboardreview',
            name='trigger_log_anchor',
            field=models.ForeignKey(blank=True, db_constraint=False, editable=False, help_text="The trigger log's signed head when the review was finalised.", null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='risks.triggercheckpoint'),
        ),
        migrations.AddConstraint(
            model_name='triggercheckpoint',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('entry__isnull', False), ('kind', 'append')), models.Q(('entry__isnull', True), ('kind', 'anchor')), _connector='OR'), name='triggercheckpoint_append_has_entry'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(protect, unprotect),
    ]
