"""Email owners their reminders and the board secretary a weekly summary (cron or a timer)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from risks.reminders import reminders_send


class Command(BaseCommand):
    help = (
        "Email each risk owner one digest of reviews due within 14 days or overdue, mitigation "
        "actions past due and acceptances expiring within 30 days; the board secretary a "
        "weekly summary. Idempotent per day. Exits 1 when any reminder was not delivered."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be sent; send nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        report = reminders_send(today=timezone.localdate(), dry_run=dry_run)
        verb = "Would send" if dry_run else "Sent"
        self.stdout.write(
            f"{verb} {report.emails_sent} email(s) with {report.items_sent} reminder(s) for "
            f"{report.today}; {report.skipped} already sent today."
        )
        if report.failures:
            for failure in report.failures:
                self.stderr.write(
                    f"Not delivered: {failure.get_kind_display()} ({failure.item}) to "
                    f"{failure.recipient or 'nobody'}: {failure.error}"
                )
            raise CommandError(
                f"{len(report.failures)} reminder(s) not delivered; recorded and shown on the "
                "dashboard."
            )
