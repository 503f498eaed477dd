"""Write every record of the register to one encrypted file (age, to BACKUP_RECIPIENT)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from common import backup_crypto

# Derived or transient tables: rebuilt by migrate, or worthless after a restore. API tokens
# are never backed up (only their digests are stored anyway): a restore makes their holders
# ask for new ones. Sessions would let a copy of the backup sign in as anyone signed in now.
EXCLUDE = ["contenttypes", "auth.permission", "sessions", "axes", "accounts.apitoken"]


class Command(BaseCommand):
    help = (
        "Dump the whole register (roadmap, risks, logs, history, users) to a file encrypted "
        "to BACKUP_RECIPIENT (age). Nothing unencrypted is written to disk."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="e.g. backups/register.json.gz.age")
        parser.add_argument(
            "--demo-key",
            action="store_true",
            help=(
                "Local demo only: encrypt to the demo key in .keys/ (created on first use) "
                "when no BACKUP_RECIPIENT is set. The private key then sits on the same disk."
            ),
        )

    def handle(self, *args, output: str, demo_key: bool, **options) -> None:
        try:
            recipients = backup_crypto.recipients_parse(settings.BACKUP_RECIPIENTS)
            if not recipients and demo_key:
                recipients = [self._demo_recipient()]
        except backup_crypto.BackupKeyError as error:
            raise CommandError(str(error)) from error
        if not recipients:
            raise CommandError(
                "No backup written: BACKUP_RECIPIENT is not set. Set it to an age public key "
                "(`python manage.py create_backup_key PATH` makes a key pair), or, for a local "
                "demo only, run `make backup DEMO_KEY=1`."
            )
        path = Path(output)
        if path.exists():
            raise CommandError(f"{path} exists; a backup never overwrites another.")
        backup_crypto.private_folder(path.parent)

        dump = io.StringIO()
        call_command(
            "dumpdata",
            exclude=EXCLUDE,
            natural_foreign=True,
            natural_primary=True,
            stdout=dump,
            verbosity=0,
        )
        plaintext = gzip.compress(dump.getvalue().encode("utf-8"))
        del dump
        backup_crypto.private_file_write(path, backup_crypto.encrypt(plaintext, recipients))
        self.stdout.write(f"Backup written to {path} (encrypted to {len(recipients)} key(s)).")

    def _demo_recipient(self):
        path = Path(settings.BACKUP_DEMO_KEY_FILE)
        if path.exists():
            recipient = backup_crypto.identity_read(path).to_public()
        else:
            recipient = backup_crypto.identity_create(path)
        self.stderr.write(
            f"Demo only: encrypted to the demo key {path}, which sits on this disk. "
            "Set BACKUP_RECIPIENT for real backups."
        )
        return recipient
