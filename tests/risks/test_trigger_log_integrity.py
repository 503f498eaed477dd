"""The trigger log is append-only at every layer, and its hash chain exposes tampering."""

from __future__ import annotations

import importlib
import threading
import time
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core import serializers
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from risks import services
from risks.models import AppendOnlyError, TriggerEntry
from risks.selectors import trigger_log_verify
from risks.services import contingency_invoke, contingency_update
from risks.trigger_chain import entry_digest
from tests.factories import RiskFactory, TriggerEntryFactory

pytestmark = pytest.mark.django_db

TABLE = TriggerEntry._meta.db_table
guards = importlib.import_module("risks.migrations.0011_trigger_log_signed_heads")
PG_GUARDS = [
    (guards.ENTRIES, f"{guards.ENTRIES}_append_only"),
    (guards.CHECKPOINTS, f"{guards.CHECKPOINTS}_append_only"),
    (guards.HEAD, f"{guards.HEAD}_guard"),
]


@pytest.fixture
def log(staff_member):
    """Four entries over two risks: #1 R1 invoked, #2 R2 invoked, #3 R1 update, #4 R2 update."""
    r1, r2 = RiskFactory(code="R1"), RiskFactory(code="R2")
    for risk in (r1, r2):
        TriggerEntryFactory(risk=risk, recorded_by=staff_member)
    for risk in (r1, r2):
        TriggerEntryFactory(risk=risk, recorded_by=staff_member, kind="update")
    return list(TriggerEntry.objects.order_by("sequence"))


@contextmanager
def triggers_lifted():
    """What someone with direct database access can do: switch the append-only guards off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred foreign-key checks: run them as they come.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in PG_GUARDS:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            yield cursor
            for table, trigger in PG_GUARDS:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for sql in guards.SQLITE_UNPROTECT:
                cursor.execute(sql)
            yield cursor
            for sql in guards.SQLITE_PROTECT:
                cursor.execute(sql)


def delete_entries(cursor, *, since: int, until: int | None = None) -> None:
    """Delete entries and their signed heads, as a tamperer would have to."""
    entries = TriggerEntry.objects.filter(sequence__gte=since)
    if until is not None:
        entries = entries.filter(sequence__lte=until)
    ids = list(entries.values_list("pk", flat=True))
    for table, column in [(guards.CHECKPOINTS, "entry_id"), (guards.ENTRIES, "id")]:
        for pk in ids:
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [pk])  # noqa: S608


def verify() -> str:
    out = StringIO()
    call_command("verify_trigger_log", stdout=out)
    return out.getvalue()


# --- Append-only ------------------------------------------------------------------------


def test_the_model_refuses_to_change_or_delete_an_entry(log):
    entry = log[0]
    entry.reason = "Rewritten."
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        TriggerEntry.objects.filter(pk=entry.pk).update(reason="Rewritten.")
    with pytest.raises(AppendOnlyError):
        TriggerEntry.objects.all().delete()


@pytest.mark.parametrize(
    "sql", ["UPDATE risks_triggerentry SET reason = 'Rewritten.'", "DELETE FROM risks_triggerentry"]
)
def test_the_database_refuses_update_and_delete(log, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert TriggerEntry.objects.filter(reason="Rewritten.").count() == 0
    assert TriggerEntry.objects.count() == 4


def test_a_risk_with_log_entries_cannot_be_deleted(log):
    with pytest.raises(ProtectedError):
        log[0].risk.delete()


@pytest.mark.parametrize("persona", ["staff_member", "board_member", "auditor"])
def test_nobody_changes_or_deletes_an_entry(request, persona):
    user = request.getfixturevalue(persona)
    assert user.has_perm("risks.view_triggerentry")
    assert user.has_perm("risks.add_triggerentry") == (persona == "staff_member")
    assert not user.has_perm("risks.change_triggerentry")
    assert not user.has_perm("risks.delete_triggerentry")


# --- The chain --------------------------------------------------------------------------


def test_an_intact_log_verifies_with_its_count(log):
    out = verify()
    assert "Trigger log intact: 4 entries checked." in out
    assert log[-1].entry_hash in out


def test_an_empty_log_verifies():
    assert "Trigger log intact: 0 entries checked." in verify()


def test_entries_are_chained(log):
    assert [e.sequence for e in log] == [1, 2, 3, 4]
    assert log[0].prev_hash == "0" * 64
    assert [e.prev_hash for e in log[1:]] == [e.entry_hash for e in log[:-1]]


def test_an_edited_entry_is_named(log):
    with triggers_lifted() as cursor:
        cursor.execute(
            "UPDATE risks_triggerentry SET reason = 'Nothing happened.' WHERE sequence = 2"
        )

    with pytest.raises(CommandError, match=r"entry #2 \(id \d+\): its content"):
        verify()
    report = trigger_log_verify()
    assert (report.ok, report.checked, report.first_bad_sequence) == (False, 1, 2)
    assert report.first_bad_id == log[1].pk


def test_a_removed_entry_is_named(log):
    with triggers_lifted() as cursor:
        delete_entries(cursor, since=2, until=2)

    with pytest.raises(CommandError, match=r"entry #3 .*expected sequence 2"):
        verify()


def test_a_removed_last_entry_is_caught_by_the_chain_head(log):
    with triggers_lifted() as cursor:
        delete_entries(cursor, since=4)

    with pytest.raises(CommandError, match="#4 to #4 are missing"):
        verify()


def test_reordered_entries_are_named(log):
    with triggers_lifted() as cursor:
        cursor.execute("UPDATE risks_triggerentry SET sequence = 100 WHERE sequence = 2")
        cursor.execute("UPDATE risks_triggerentry SET sequence = 2 WHERE sequence = 3")
        cursor.execute("UPDATE risks_triggerentry SET sequence = 3 WHERE sequence = 100")

    with pytest.raises(CommandError, match="entry #2"):
        verify()


def test_an_entry_moved_to_another_risk_is_named(log):
    with triggers_lifted() as cursor:
        cursor.execute(
            "UPDATE risks_triggerentry SET risk_id = %s WHERE sequence = 3", [log[1].risk_id]
        )

    with pytest.raises(CommandError, match="entry #3"):
        verify()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_valid_chain(monkeypatch, staff_member):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter")
    risks = [RiskFactory(code=f"R{n}") for n in range(1, 7)]
    for risk in risks:
        contingency_invoke(risk=risk, user=staff_member, reason="Triggered.")
    digest = services.entry_digest
    monkeypatch.setattr(services, "entry_digest", lambda e: time.sleep(0.05) or digest(e))
    barrier, errors = threading.Barrier(len(risks)), []

    def update(risk):
        try:
            barrier.wait()
            contingency_update(risk=risk, user=staff_member, reason="Progress.")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=update, args=(risk,)) for risk in risks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert list(TriggerEntry.objects.values_list("sequence", flat=True)) == list(range(1, 13))
    assert trigger_log_verify().ok


def test_the_hashes_survive_a_json_backup(log):
    # backup_register and restore_register go through Django's JSON serialiser.
    dumped = serializers.serialize(
        "json", TriggerEntry.objects.all(), use_natural_foreign_keys=True
    )
    restored = [item.object for item in serializers.deserialize("json", dumped)]
    assert [entry_digest(entry) for entry in restored] == [e.entry_hash for e in log]


@pytest.mark.django_db
def test_the_append_only_triggers_survive_every_migration():
    # A migration that rebuilds a trigger-log table (SQLite rebuilds a table for many field
    # changes) would drop its triggers silently: after all of them, every table still has its own.
    tables = ("risks_triggerentry", "risks_triggercheckpoint", "risks_triggerchainhead")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal"
            )
        guarded = {row[0] for row in cursor.fetchall()}
    assert set(tables) <= guarded
