"""Email about the trigger log. Called after commit: the entry is already safe, and a mail
server that is down or slow must neither lose it nor hold the transaction open. A send is
retried; one that still fails is recorded (NotificationFailure) and shown on the board's
dashboard as "notification not delivered", never only logged."""

from __future__ import annotations

import logging
import time

from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from risks.models import NotificationFailure, TriggerCheckpoint, TriggerEntry
from risks.trigger_chain import instant

logger = logging.getLogger(__name__)

BOARD_GROUP = "Board"
# Seconds to wait before the second and third attempts.
RETRY_DELAYS = (1.0, 3.0)


def trigger_entry_recipients(entry: TriggerEntry) -> list[str]:
    board = (
        get_user_model()
        .objects.filter(groups__name=BOARD_GROUP, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted({*board, *entry.risk.owner_agency.contacts})


def one_line(text: str) -> str:
    """A header holds one line: newlines (and every other run of whitespace) fold to a space."""
    return " ".join(str(text).split())


def _message(entry: TriggerEntry) -> tuple[str, str]:
    risk = entry.risk
    subject = one_line(f"[Risk register] {risk.code}: {entry.get_kind_display()} - {risk.title}")
    lines = [
        f"{entry.get_kind_display()} for {risk.code} ({risk.title}).",
        "",
        f"Reason: {entry.reason}",
        f"Evidence: {entry.evidence or '-'}",
        f"Actions taken: {entry.actions_taken or '-'}",
        f"Authorised by: {entry.authorised_by or '-'}",
        f"Recorded by: {entry.recorded_by.get_username()}",
        f"Recorded at: {entry.recorded_at:%Y-%m-%d %H:%M} UTC",
        f"Trigger log entry #{entry.sequence}, hash {entry.entry_hash}",
        *_signed_head(entry),
    ]
    return subject, "\n".join(lines)


def _signed_head(entry: TriggerEntry) -> list[str]:
    """The new head of the log as signed: kept in the recipients' mailboxes, it is a copy
    outside the database that a later cut or rewrite of the log cannot match."""
    checkpoint = TriggerCheckpoint.objects.filter(entry=entry).first()
    if checkpoint is None:
        return []
    return [
        "",
        "The trigger log's new signed head (keep this email: it lets anyone check later that",
        "the log was not cut back or rewritten; see the README, 'For auditors'):",
        f"  origin:    {checkpoint.origin}",
        f"  sequence:  {checkpoint.sequence}",
        f"  hash:      {checkpoint.entry_hash}",
        f"  signed at: {instant(checkpoint.signed_at)}",
        f"  key id:    {checkpoint.key_id}",
        f"  signature: {checkpoint.signature}",
    ]


def trigger_entry_notify(*, entry: TriggerEntry) -> None:
    """Tell the Board and the owner agency. Never raises: a failure is recorded, not lost."""
    recipients: list[str] = []
    attempts = 0
    try:
        recipients = trigger_entry_recipients(entry)
        if not recipients:
            _record_failure(
                entry,
                attempts=0,
                error="Nobody to notify: no Board member or "
                "owner agency contact has an email address.",
                recipients=[],
            )
            return
        subject, body = _message(entry)
        for delay in (0, *RETRY_DELAYS):
            time.sleep(delay)
            attempts += 1
            try:
                send_mail(subject, body, None, recipients, fail_silently=False)
                return
            except Exception as error:
                last_error = error
                logger.warning(
                    "Email for trigger log entry #%s failed (attempt %s): %s",
                    entry.sequence,
                    attempts,
                    error,
                )
        _record_failure(
            entry,
            attempts=attempts,
            error=f"{type(last_error).__name__}: {last_error}",
            recipients=recipients,
        )
    except Exception as error:
        _record_failure(
            entry,
            attempts=attempts,
            error=f"{type(error).__name__}: {error}",
            recipients=recipients,
        )


def _record_failure(entry: TriggerEntry, *, attempts: int, error: str, recipients) -> None:
    logger.error(
        "Could not send the email for trigger log entry #%s: notification not delivered (%s).",
        entry.sequence,
        error,
    )
    try:
        NotificationFailure.objects.update_or_create(
            entry=entry,
            defaults={
                "attempts": attempts,
                "error": error[:2000],
                "recipients": "\n".join(recipients),
            },
        )
    except Exception:
        logger.exception("Could not record the failed notification of entry #%s.", entry.sequence)
