"""Check the trigger log's hash chain: exit 0 with a count, or non-zero naming the bad entry."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from risks.selectors import trigger_log_verify


class Command(BaseCommand):
    help = "Verify that no trigger log entry was altered, removed or reordered."

    def handle(self, *args, **options) -> None:
        report = trigger_log_verify()
        if not report.ok:
            raise CommandError(report.message)
        self.stdout.write(report.message)
        # Kept outside the database (minutes, board papers), this exposes even a rewrite of
        # the whole chain by someone with write access to the database.
        self.stdout.write(f"Head hash: {report.head_hash}")
