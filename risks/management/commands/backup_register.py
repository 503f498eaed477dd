"""Write every record of the register to one (optionally .gz) JSON file."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

# Derived or transient tables: rebuilt by migrate, or worthless after a restore. API tokens
# are never backed up: a restore makes their holders ask for new ones.
EXCLUDE = ["contenttypes", "auth.permission", "sessions", "axes", "accounts.apitoken"]


class Command(BaseCommand):
    help = "Dump the whole register (roadmap, risks, logs, history, users) to a file."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="e.g. backups/register.json.gz")

    def handle(self, *args, output: str, **options) -> None:
        call_command(
            "dumpdata",
            exclude=EXCLUDE,
            natural_foreign=True,
            natural_primary=True,
            output=output,
            verbosity=0,
        )
        self.stdout.write(f"Backup written to {output}")
