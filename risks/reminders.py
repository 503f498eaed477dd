"""Reminders by email (`python manage.py send_reminders`, run daily by cron or a systemd timer).

Each risk's owner (its owner email, or else its owner agency's contact addresses) gets one
digest of reviews due within REVIEW_NOTICE_DAYS and overdue, mitigation actions past due and
acceptances expiring within ACCEPTANCE_NOTICE_DAYS; the board secretary gets a weekly summary.
Every item sent or failed is a Reminder row: a sent row keeps a second run on the same day
from sending it again, a failed row keeps its error for the dashboard and the admin, and the
next run tries it again."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string

from risks import rules
from risks.models import MitigationAction, Reminder, Risk, RiskAcceptance
from risks.notifications import BOARD_GROUP
from risks.selectors import ACCEPTANCE_NOTICE_DAYS, acceptances_to_notice, risks_on_register

logger = logging.getLogger(__name__)

REVIEW_NOTICE_DAYS = 14
ERROR_LENGTH = 2000
Kind = Reminder.Kind


@dataclass(frozen=True)
class Item:
    """One thing to remind of: a risk's review, a mitigation action or an acceptance."""

    kind: str
    risk: Risk
    due_on: datetime.date
    mitigation: MitigationAction | None = None
    acceptance: RiskAcceptance | None = None

    @property
    def key(self) -> str:
        if self.mitigation is not None:
            return f"mitigation:{self.mitigation.pk}"
        if self.acceptance is not None:
            return f"acceptance:{self.acceptance.pk}"
        return f"risk:{self.risk.pk}"


@dataclass
class Digest:
    recipient: str
    items: list[Item]

    def of(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]


@dataclass
class RunReport:
    today: datetime.date
    emails_sent: int = 0
    items_sent: int = 0
    skipped: int = 0  # already sent today
    failures: list[Reminder] = field(default_factory=list)


def recipients_for(risk: Risk) -> list[str]:
    """The risk's owner email when it has one, else its owner agency's contact addresses."""
    if risk.owner_email:
        return [risk.owner_email]
    return risk.owner_agency.contacts


def items_due(*, today: datetime.date) -> list[Item]:
    """Everything an owner is reminded of on `today`."""
    horizon = today + datetime.timedelta(days=REVIEW_NOTICE_DAYS)
    items: list[Item] = []
    reviews = (
        risks_on_register()
        .filter(next_review_due__lte=horizon)  # overdue (rules.is_overdue below) or due soon
        .select_related("owner_agency")
        .order_by("next_review_due", "code")
    )
    for risk in reviews:
        overdue = rules.is_overdue(
            next_review_due=risk.next_review_due, status=risk.status, on=today
        )
        kind = Kind.REVIEW_OVERDUE if overdue else Kind.REVIEW_DUE
        items.append(Item(kind=kind, risk=risk, due_on=risk.next_review_due))
    mitigations = (
        MitigationAction.objects.filter(rules.mitigation_past_due_q(today))
        .select_related("risk__owner_agency")
        .order_by("due_date", "id")
    )
    items += [
        Item(kind=Kind.MITIGATION_OVERDUE, risk=m.risk, due_on=m.due_date, mitigation=m)
        for m in mitigations
    ]
    items += [
        Item(kind=Kind.ACCEPTANCE_EXPIRING, risk=a.risk, due_on=a.expires_on, acceptance=a)
        for a in acceptances_to_notice(today=today).filter(expires_on__gte=today)
    ]
    return items


def _row(item: Item, *, recipient: str, today: datetime.date, **fields) -> Reminder:
    return Reminder(
        recipient=recipient,
        kind=item.kind,
        item=item.key,
        risk=item.risk,
        mitigation=item.mitigation,
        acceptance=item.acceptance,
        due_on=item.due_on,
        sent_on=today,
        **fields,
    )


def _record_failure(rows: list[Reminder]) -> list[Reminder]:
    """One failed row per item, recipient and day, holding the latest error."""
    kept = []
    for row in rows:
        failure, _ = Reminder.objects.update_or_create(
            recipient=row.recipient,
            kind=row.kind,
            item=row.item,
            sent_on=row.sent_on,
            status=Reminder.Status.FAILED,
            defaults={
                "risk": row.risk,
                "mitigation": row.mitigation,
                "acceptance": row.acceptance,
                "due_on": row.due_on,
                "error": row.error[:ERROR_LENGTH],
                "sent_at": row.sent_at,
            },
        )
        kept.append(failure)
    return kept


def _send(message: EmailMessage) -> str:
    """Send; the error as text when it fails, "" when it went."""
    try:
        message.send(fail_silently=False)
    except Exception as error:  # any backend, any failure: recorded, never lost
        logger.warning("Reminder to %s not delivered: %s", ", ".join(message.to), error)
        return f"{type(error).__name__}: {error}"
    return ""


def _site_url() -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/")


def digest_message(digest: Digest, *, today: datetime.date, connection=None) -> EmailMessage:
    count = len(digest.items)
    subject = f"[Risk register] {count} reminder{'s' if count != 1 else ''} for {today}"
    body = render_to_string(
        "risks/email/reminder_digest.txt",
        {
            "digest": digest,
            "today": today,
            "site_url": _site_url(),
            "overdue": digest.of(Kind.REVIEW_OVERDUE),
            "due": digest.of(Kind.REVIEW_DUE),
            "mitigations": digest.of(Kind.MITIGATION_OVERDUE),
            "acceptances": digest.of(Kind.ACCEPTANCE_EXPIRING),
            "review_days": REVIEW_NOTICE_DAYS,
            "acceptance_days": ACCEPTANCE_NOTICE_DAYS,
        },
    )
    return EmailMessage(subject, body, None, [digest.recipient], connection=connection)


def secretary_recipients() -> list[str]:
    configured = [address for address in settings.BOARD_SECRETARY_EMAIL if address]
    if configured:
        return configured
    return sorted(
        set(
            get_user_model()
            .objects.filter(groups__name=BOARD_GROUP, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def _week(today: datetime.date) -> tuple[str, datetime.date]:
    year, week, weekday = today.isocalendar()
    return f"week:{year}-W{week:02d}", today - datetime.timedelta(days=weekday - 1)


def reminders_send(*, today: datetime.date, dry_run: bool = False) -> RunReport:
    """Send today's digests and (once a week) the board secretary's summary."""
    report = RunReport(today=today)
    items = items_due(today=today)
    already = set(
        Reminder.objects.filter(sent_on=today, status=Reminder.Status.SENT).values_list(
            "recipient", "kind", "item"
        )
    )
    by_recipient: dict[str, list[Item]] = {}
    nobody: list[Reminder] = []
    for item in items:
        recipients = recipients_for(item.risk)
        if not recipients:
            nobody.append(
                _row(
                    item,
                    recipient="",
                    today=today,
                    status=Reminder.Status.FAILED,
                    error=f"Nobody to remind: {item.risk.code} has no owner email and "
                    f"{item.risk.owner_agency.code} has no contact address.",
                )
            )
        for recipient in recipients:
            if (recipient, item.kind, item.key) in already:
                report.skipped += 1
            else:
                by_recipient.setdefault(recipient, []).append(item)
    if dry_run:
        report.items_sent = sum(len(found) for found in by_recipient.values())
        report.emails_sent = len(by_recipient)
        return report
    if nobody:
        report.failures += _record_failure(nobody)

    connection = get_connection(fail_silently=False)
    for recipient, found in sorted(by_recipient.items()):
        message = digest_message(Digest(recipient, found), today=today, connection=connection)
        error = _send(message)
        status = Reminder.Status.FAILED if error else Reminder.Status.SENT
        rows = [
            _row(item, recipient=recipient, today=today, status=status, error=error)
            for item in found
        ]
        with transaction.atomic():
            if error:
                report.failures += _record_failure(rows)
            else:
                Reminder.objects.bulk_create(rows)
                report.emails_sent += 1
                report.items_sent += len(rows)

    _weekly_summary(report=report, items=items, connection=connection)
    return report


def _weekly_summary(*, report: RunReport, items: list[Item], connection) -> None:
    today = report.today
    key, monday = _week(today)
    recipients = secretary_recipients()
    if not recipients:
        report.failures += _record_failure(
            [
                Reminder(
                    recipient="",
                    kind=Kind.BOARD_SUMMARY,
                    item=key,
                    sent_on=today,
                    status=Reminder.Status.FAILED,
                    error="Nobody to send the weekly summary to: set BOARD_SECRETARY_EMAIL "
                    "or give a Board member an email address.",
                )
            ]
        )
        return
    done = set(
        Reminder.objects.filter(
            kind=Kind.BOARD_SUMMARY, item=key, status=Reminder.Status.SENT, sent_on__gte=monday
        ).values_list("recipient", flat=True)
    )
    undelivered = list(
        Reminder.objects.filter(
            status=Reminder.Status.FAILED, sent_on__gte=monday - datetime.timedelta(days=7)
        )
        .exclude(kind=Kind.BOARD_SUMMARY)
        .select_related("risk")
        .order_by("-sent_at")
    )
    for recipient in recipients:
        if recipient in done:
            report.skipped += 1
            continue
        body = render_to_string(
            "risks/email/board_summary.txt",
            {
                "today": today,
                "week": key.removeprefix("week:"),
                "site_url": _site_url(),
                "overdue": [i for i in items if i.kind == Kind.REVIEW_OVERDUE],
                "due": [i for i in items if i.kind == Kind.REVIEW_DUE],
                "mitigations": [i for i in items if i.kind == Kind.MITIGATION_OVERDUE],
                "acceptances": [i for i in items if i.kind == Kind.ACCEPTANCE_EXPIRING],
                "undelivered": undelivered,
                "review_days": REVIEW_NOTICE_DAYS,
                "acceptance_days": ACCEPTANCE_NOTICE_DAYS,
            },
        )
        subject = f"[Risk register] Weekly summary {key.removeprefix('week:')}"
        error = _send(EmailMessage(subject, body, None, [recipient], connection=connection))
        row = Reminder(
            recipient=recipient,
            kind=Kind.BOARD_SUMMARY,
            item=key,
            sent_on=today,
            status=Reminder.Status.FAILED if error else Reminder.Status.SENT,
            error=error,
        )
        if error:
            report.failures += _record_failure([row])
        else:
            row.save()
            report.emails_sent += 1
            report.items_sent += 1
