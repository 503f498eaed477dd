"""Migration 0011_trigger_log_signed_heads on a log that already has entries: it checks the
chain under the old hash, re-hashes it under the new one, signs every head and anchors every
finalised review."""

from __future__ import annotations

import datetime
import hashlib
import importlib
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from risks import services
from risks.models import TriggerEntry
from risks.selectors import trigger_log_verify
from tests.factories import RiskFactory, TriggerEntryFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = ("risks", "0010_history_of_links_and_derived_review")
OLD_GUARD = importlib.import_module("risks.migrations.0005_trigger_log_append_only")


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _old_digest(row: dict, username: str) -> str:
    content = {
        "sequence": row["sequence"],
        "kind": row["kind"],
        "risk": row["risk_id"],
        "recorded_at": row["recorded_at"]
        .astimezone(datetime.UTC)
        .isoformat(timespec="microseconds"),
        "recorded_by": username,
        "reason": row["reason"],
        "evidence": row["evidence"],
        "actions_taken": row["actions_taken"],
        "authorised_by": row["authorised_by"],
        "previous_status": row["previous_status"],
        "prev_hash": row["prev_hash"],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _rehash_as_before_signing(*, break_at: int | None = None) -> None:
    """Rewrite the entries' hashes in the old form (risk id, current username), as a log
    written before the migration has them."""
    executor = MigrationExecutor(connection)
    apps = executor.loader.project_state(BEFORE).apps
    Entry = apps.get_model("risks", "TriggerEntry")
    Head = apps.get_model("risks", "TriggerChainHead")
    previous = "0" * 64
    with connection.cursor() as cursor:
        for sql in OLD_GUARD._statements(connection.vendor, forward=False):
            cursor.execute(sql)
        for entry in Entry.objects.select_related("recorded_by").order_by("sequence"):
            row = {f.attname: getattr(entry, f.attname) for f in Entry._meta.concrete_fields}
            row["prev_hash"] = previous
            digest = _old_digest(row, entry.recorded_by.username)
            if entry.sequence == break_at:
                row["reason"] = "Rewritten."
            cursor.execute(
                "UPDATE risks_triggerentry SET prev_hash = %s, entry_hash = %s, reason = %s "
                "WHERE id = %s",
                [previous, digest, row["reason"], entry.pk],
            )
            previous = digest
        for sql in OLD_GUARD._statements(connection.vendor, forward=True):
            cursor.execute(sql)
    Head.objects.filter(pk=1).update(entry_hash=previous)


@pytest.fixture
def old_log(staff_member, board_member):
    r1, r2 = RiskFactory(code="R1"), RiskFactory(code="R2")
    TriggerEntryFactory(risk=r1, recorded_by=staff_member)
    TriggerEntryFactory(risk=r2, recorded_by=staff_member)
    review = services.review_create(
        user=board_member, quarter="2027-Q1", meeting_date=datetime.date(2027, 3, 1), attendees="A"
    )
    services.review_finalise(review=review, user=board_member)
    TriggerEntryFactory(risk=r1, recorded_by=staff_member, kind="update")
    leaves = _leaves()
    _migrate([BEFORE])
    yield
    _migrate(leaves)


def test_an_old_log_is_rehashed_signed_and_anchored(old_log):
    _rehash_as_before_signing()
    _migrate(_leaves())

    report = trigger_log_verify()
    assert (report.ok, report.checked, report.reviews_checked) == (True, 3, 1), report.message
    entries = TriggerEntry.objects.select_related("checkpoint").order_by("sequence")
    assert [(e.risk_code, e.recorded_by_username) for e in entries] == [
        ("R1", "sam.staff"),
        ("R2", "sam.staff"),
        ("R1", "sam.staff"),
    ]
    assert all(e.checkpoint.signed_at == e.recorded_at for e in entries)


def test_a_broken_old_log_stops_the_migration(old_log):
    _rehash_as_before_signing(break_at=2)
    with pytest.raises(RuntimeError, match="broken at entry #2"):
        _migrate(_leaves())
    # Put the chain right so the fixture can finish migrating.
    _rehash_as_before_signing()
