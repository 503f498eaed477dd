"""Check the trigger log: exit 0 with a count, or non-zero naming the first bad entry."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from risks.selectors import trigger_log_verify


class Command(BaseCommand):
    help = (
        "Verify the trigger log: hashes, links, signed heads, increasing sequence numbers and "
        "times, the recorders' permission, and every finalised board review's anchor."
    )

    def handle(self, *args, **options) -> None:
        report = trigger_log_verify()
        if not report.ok:
            raise CommandError(report.message)
        self.stdout.write(report.message)
        self.stdout.write(f"Board review anchors checked: {report.reviews_checked}")
        # Kept outside the database (minutes, board papers), this exposes even a rewrite of
        # the whole chain by someone with write access to the database.
        self.stdout.write(f"Head hash: {report.head_hash} (entry #{report.checked})")
        self.stdout.write(f"Signatures checked with public key {report.key_id}")
