"""Make an age key pair for backups: the private key to PATH, the public key printed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from common import backup_crypto


class Command(BaseCommand):
    help = (
        "Write a new age private key to PATH (0600, never overwritten) and print its public "
        "key, the value of BACKUP_RECIPIENT. Keep the private key off the backup's machine."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options) -> None:
        try:
            public = backup_crypto.identity_create(path)
        except FileExistsError as error:
            raise CommandError(f"{path} exists; a key is never overwritten.") from error
        self.stdout.write(f"Private key written to {path}. Public key (BACKUP_RECIPIENT):")
        self.stdout.write(str(public))
