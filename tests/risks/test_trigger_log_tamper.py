"""Tampering with the trigger log: each attempt is refused by the database or fails
verification, on PostgreSQL and SQLite. Renaming a user or a risk breaks nothing."""

from __future__ import annotations

import base64
import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import mail
from django.db import DatabaseError, connection, transaction

from common import signing
from risks import services
from risks.models import TriggerChainHead, TriggerCheckpoint, TriggerEntry
from risks.selectors import trigger_log_verify
from risks.trigger_chain import checkpoint_text, entry_digest
from tests.factories import RiskFactory, TriggerEntryFactory
from tests.risks.test_trigger_log_integrity import delete_entries, guards, triggers_lifted

pytestmark = pytest.mark.django_db

GENESIS = "0" * 64


@pytest.fixture
def log(staff_member):
    """Four signed entries: #1 R1 invoked, #2 R2 invoked, #3 R1 update, #4 R2 update."""
    r1, r2 = RiskFactory(code="R1"), RiskFactory(code="R2")
    for risk in (r1, r2):
        TriggerEntryFactory(risk=risk, recorded_by=staff_member)
    for risk in (r1, r2):
        TriggerEntryFactory(risk=risk, recorded_by=staff_member, kind="update")
    assert trigger_log_verify().ok
    return list(TriggerEntry.objects.order_by("sequence"))


@pytest.fixture
def finalised_review(board_member, log):
    review = services.review_create(
        user=board_member,
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 15),
        attendees="Chair, ONDCP",
    )
    return services.review_finalise(review=review, user=board_member)


def refused(sql: str, params=()) -> None:
    with (
        pytest.raises(DatabaseError, match=r"append-only|head"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def rewrite_from(cursor, sequence: int, *, sign=signing.sign) -> None:
    """Re-hash every entry from `sequence` on and re-sign its head with `sign`: what someone
    with database access and a key could do after editing entry #sequence."""
    entries = TriggerEntry.objects.select_related("checkpoint").order_by("sequence")
    previous = GENESIS
    for entry in entries:
        if entry.sequence >= sequence:
            entry.prev_hash = previous
            entry.entry_hash = entry_digest(entry)
            text = checkpoint_text(
                origin=entry.checkpoint.origin,
                sequence=entry.sequence,
                entry_hash=entry.entry_hash,
                signed_at=entry.recorded_at,
            )
            cursor.execute(
                "UPDATE risks_triggerentry SET prev_hash = %s, entry_hash = %s WHERE id = %s",
                [entry.prev_hash, "x" + entry.entry_hash[1:], entry.pk],  # unique meanwhile
            )
            cursor.execute(
                "UPDATE risks_triggercheckpoint SET entry_hash = %s, signature = %s "
                "WHERE entry_id = %s",
                [entry.entry_hash, sign(text.encode()), entry.pk],
            )
        previous = entry.entry_hash
    for entry in entries:
        if entry.sequence >= sequence:
            cursor.execute(
                "UPDATE risks_triggerentry SET entry_hash = %s WHERE id = %s",
                [entry.entry_hash, entry.pk],
            )
    cursor.execute(
        "UPDATE risks_triggerchainhead SET sequence = %s, entry_hash = %s WHERE id = 1",
        [len(entries), previous],
    )


def attackers_sign(message: bytes) -> str:
    return base64.b64encode(Ed25519PrivateKey.generate().sign(message)).decode()


def broken_at(sequence: int | None, words: str):
    report = trigger_log_verify()
    assert not report.ok, report.message
    assert report.first_bad_sequence == sequence, report.message
    assert words in report.message
    return report


# --- Refused by the database ---------------------------------------------------------------


def test_the_head_cannot_be_moved_or_deleted(log):
    refused("UPDATE risks_triggerchainhead SET sequence = 3, entry_hash = %s", [log[2].entry_hash])
    refused("UPDATE risks_triggerchainhead SET sequence = 5")
    refused("UPDATE risks_triggerchainhead SET sequence = 0, entry_hash = %s", [GENESIS])
    refused("DELETE FROM risks_triggerchainhead")
    assert TriggerChainHead.objects.get().sequence == 4


def test_signed_heads_cannot_be_changed_or_deleted(log):
    refused("UPDATE risks_triggercheckpoint SET signature = 'AAAA'")
    refused("DELETE FROM risks_triggercheckpoint")
    assert TriggerCheckpoint.objects.count() == 4


def test_truncation_is_refused_on_postgresql(log):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE: its DELETE is refused (test_trigger_log_integrity)")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks in the way
    for table in (guards.ENTRIES, guards.CHECKPOINTS, guards.HEAD):
        refused(f"TRUNCATE {table} CASCADE")
    assert TriggerEntry.objects.count() == 4


def test_the_head_cannot_follow_a_forged_entry_without_a_signed_head(log):
    with connection.cursor() as cursor:
        _forge_fifth(cursor, log[-1])
    refused("UPDATE risks_triggerchainhead SET sequence = 5, entry_hash = %s", ["f" * 64])


# --- Caught by verification ------------------------------------------------------------------


def _forge_fifth(cursor, last: TriggerEntry, *, recorded_by=None, recorded_at=None) -> None:
    user = recorded_by or last.recorded_by
    cursor.execute(
        "INSERT INTO risks_triggerentry (sequence, kind, risk_id, risk_code, recorded_at, "
        "recorded_by_id, recorded_by_username, reason, evidence, actions_taken, "
        "authorised_by, previous_status, prev_hash, entry_hash) "
        "VALUES (5, 'update', %s, %s, %s, %s, %s, 'Backdated.', '', '', '', 'open', %s, %s)",
        [
            last.risk_id,
            last.risk_code,
            recorded_at or datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
            user.pk,
            user.username,
            last.entry_hash,
            "f" * 64,
        ],
    )


def test_a_forged_entry_appended_with_plain_sql_is_named(log, board_member):
    with connection.cursor() as cursor:
        _forge_fifth(cursor, log[-1], recorded_by=board_member)
    broken_at(5, "entry #5")


def test_a_forged_entry_with_a_made_up_signed_head_is_named(log):
    with connection.cursor() as cursor:
        _forge_fifth(cursor, log[-1], recorded_at=log[-1].recorded_at)
    forged = TriggerEntry.objects.get(sequence=5)
    forged.entry_hash = entry_digest(forged)
    with triggers_lifted() as cursor:
        cursor.execute(
            "UPDATE risks_triggerentry SET entry_hash = %s WHERE sequence = 5", [forged.entry_hash]
        )
        text = checkpoint_text(
            origin="roadmap-risk-register/trigger-log",
            sequence=5,
            entry_hash=forged.entry_hash,
            signed_at=forged.recorded_at,
        )
        cursor.execute(
            "INSERT INTO risks_triggercheckpoint (kind, entry_id, sequence, entry_hash, "
            "signed_at, origin, key_id, signature) VALUES ('append', %s, 5, %s, %s, %s, %s, %s)",
            [
                forged.pk,
                forged.entry_hash,
                forged.recorded_at,
                "roadmap-risk-register/trigger-log",
                signing.key_id(),
                attackers_sign(text.encode()),
            ],
        )
    # The database lets the head follow (a signed head row exists); the signature fails.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE risks_triggerchainhead SET sequence = 5, entry_hash = %s", [forged.entry_hash]
        )
    broken_at(5, "signature of its head does not verify")


def test_a_head_moved_with_the_guards_off_is_caught(log):
    with triggers_lifted() as cursor:
        cursor.execute(
            "UPDATE risks_triggerchainhead SET sequence = 3, entry_hash = %s", [log[2].entry_hash]
        )
    broken_at(4, "not the last entry the chain head records")


def test_an_edited_entry_rehashed_without_the_key_is_caught(log):
    with triggers_lifted() as cursor:
        cursor.execute("UPDATE risks_triggerentry SET reason = 'Nothing.' WHERE sequence = 2")
        rewrite_from(cursor, 2, sign=attackers_sign)
    broken_at(2, "signature of its head does not verify")


def test_a_deleted_tail_with_the_head_reset_is_caught_by_the_review(finalised_review, log):
    with triggers_lifted() as cursor:
        delete_entries(cursor, since=3)
        cursor.execute(
            "UPDATE risks_triggerchainhead SET sequence = 2, entry_hash = %s", [log[1].entry_hash]
        )
    broken_at(3, "2027-Q1 board review holds head #4, but the log ends at #2")


def test_a_truncated_log_with_the_head_reset_is_caught_by_the_review(finalised_review, log):
    with triggers_lifted() as cursor:
        delete_entries(cursor, since=1)
        cursor.execute("UPDATE risks_triggerchainhead SET sequence = 0, entry_hash = %s", [GENESIS])
    assert TriggerEntry.objects.count() == 0
    broken_at(1, "cut back")


def test_a_chain_rewritten_after_a_review_is_caught_even_with_the_key(finalised_review, log):
    # Someone holding the signing key too: every hash and signature holds again, but the
    # review's anchor was signed before and names the old entry #4.
    with triggers_lifted() as cursor:
        cursor.execute("UPDATE risks_triggerentry SET reason = 'Nothing.' WHERE sequence = 2")
        rewrite_from(cursor, 2)
    broken_at(4, "it was rewritten after the review")


def test_a_backdated_entry_is_caught_even_with_the_key(log):
    with triggers_lifted() as cursor:
        cursor.execute(
            "UPDATE risks_triggerentry SET recorded_at = %s WHERE sequence = 3",
            [log[0].recorded_at - datetime.timedelta(days=1)],
        )
        cursor.execute(
            "UPDATE risks_triggercheckpoint SET signed_at = %s WHERE entry_id = %s",
            [log[0].recorded_at - datetime.timedelta(days=1), log[2].pk],
        )
        rewrite_from(cursor, 3)
    broken_at(3, "dated before the entry before it")


def test_an_entry_by_someone_without_the_permission_is_caught(log, board_member):
    with triggers_lifted() as cursor:
        cursor.execute(
            "UPDATE risks_triggerentry SET recorded_by_id = %s, recorded_by_username = %s "
            "WHERE sequence = 2",
            [board_member.pk, board_member.username],
        )
        rewrite_from(cursor, 2)
    broken_at(2, "bea.board, who does not hold the permission to record")


def test_a_reviews_missing_anchor_is_caught(finalised_review, log):
    with triggers_lifted() as cursor:
        cursor.execute("UPDATE risks_boardreview SET trigger_log_anchor_id = NULL")
    broken_at(None, "2027-Q1 board review holds no signed head")


# --- What must not break it --------------------------------------------------------------


def test_a_user_rename_and_a_risk_code_change_leave_it_intact(log, staff_member):
    staff_member.username = "samantha.staff"
    staff_member.save()
    risk = log[0].risk
    risk.code = "R100"
    risk.save()

    report = trigger_log_verify()
    assert report.ok, report.message
    entry = TriggerEntry.objects.get(sequence=1)
    assert (entry.risk_code, entry.recorded_by_username) == ("R1", "sam.staff")


def test_a_recorder_who_left_still_counts(log, staff_member):
    staff_member.is_active = False
    staff_member.save()
    assert trigger_log_verify().ok


def test_a_recorder_taken_out_of_staff_is_named(log, staff_member):
    # Documented: deactivate a recorder who leaves; do not take them out of Staff.
    staff_member.groups.clear()
    broken_at(1, "who does not hold the permission to record")


def test_an_intact_log_with_reviews_checks_every_anchor(finalised_review, log, board_member):
    TriggerEntryFactory(risk=log[0].risk, recorded_by=log[0].recorded_by, kind="stood_down")
    second = services.review_create(
        user=board_member,
        quarter="2027-Q2",
        meeting_date=datetime.date(2027, 6, 15),
        attendees="Chair, ONDCP",
    )
    services.review_finalise(review=second, user=board_member)
    report = trigger_log_verify()
    assert (report.ok, report.checked, report.reviews_checked) == (True, 5, 2)
    anchors = [
        (r.trigger_log_anchor.sequence, r.trigger_log_anchor.kind)
        for r in (finalised_review, second)
    ]
    assert anchors == [(4, "anchor"), (5, "anchor")]


def test_a_review_of_an_empty_log_anchors_the_genesis(board_member):
    review = services.review_create(
        user=board_member,
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 15),
        attendees="Chair",
    )
    review = services.review_finalise(review=review, user=board_member)
    anchor = review.trigger_log_anchor
    assert (anchor.sequence, anchor.entry_hash) == (0, GENESIS)
    assert trigger_log_verify().reviews_checked == 1


# --- Writing -----------------------------------------------------------------------------


def test_only_a_recorder_may_append(board_member):
    risk = RiskFactory(code="R1")
    with pytest.raises(Exception, match="Only Staff"):
        services.contingency_invoke(risk=risk, user=board_member, reason="Not mine to say.")
    assert not TriggerEntry.objects.exists()


def test_times_only_increase_even_when_the_clock_steps_back(monkeypatch, staff_member):
    risk = RiskFactory(code="R1")
    first = services.contingency_invoke(risk=risk, user=staff_member, reason="Triggered.")
    earlier = first.recorded_at - datetime.timedelta(minutes=5)
    monkeypatch.setattr(services, "_now_to_the_millisecond", lambda: earlier)
    second = services.contingency_update(risk=risk, user=staff_member, reason="Progress.")
    assert second.recorded_at == first.recorded_at + datetime.timedelta(milliseconds=1)
    assert trigger_log_verify().ok


def test_without_a_key_nothing_is_written(settings, staff_member):
    risk = RiskFactory(code="R1")
    settings.TRIGGER_LOG_SIGNING_KEY_FILE = ""
    settings.DEBUG = False
    signing.forget_loaded_key()
    try:
        with pytest.raises(Exception, match="TRIGGER_LOG_SIGNING_KEY_FILE"):
            services.contingency_invoke(risk=risk, user=staff_member, reason="Triggered.")
    finally:
        signing.forget_loaded_key()
    assert not TriggerEntry.objects.exists()


def test_with_debug_a_development_key_is_made_on_first_use(settings, tmp_path, staff_member):
    settings.TRIGGER_LOG_SIGNING_KEY_FILE = ""
    settings.DEBUG = True
    settings.TRIGGER_LOG_DEV_KEY_FILE = tmp_path / ".keys" / "trigger-log-dev.pem"
    signing.forget_loaded_key()
    try:
        services.contingency_invoke(
            risk=RiskFactory(code="R1"), user=staff_member, reason="Triggered."
        )
        assert settings.TRIGGER_LOG_DEV_KEY_FILE.stat().st_mode & 0o777 == 0o600
        assert trigger_log_verify().ok
    finally:
        signing.forget_loaded_key()


@pytest.mark.django_db(transaction=True)
def test_the_email_carries_the_new_signed_head(staff_member, board_member):
    entry = services.contingency_invoke(
        risk=RiskFactory(code="R1"), user=staff_member, reason="Triggered."
    )
    checkpoint = TriggerCheckpoint.objects.get(entry=entry)
    body = mail.outbox[-1].body
    assert f"sequence:  {entry.sequence}" in body
    assert f"hash:      {entry.entry_hash}" in body
    assert f"signature: {checkpoint.signature}" in body
    assert f"key id:    {signing.key_id()}" in body
