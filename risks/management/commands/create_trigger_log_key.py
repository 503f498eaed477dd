"""Create the trigger log's Ed25519 signing key, and print its public key."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from common import signing


class Command(BaseCommand):
    help = (
        "Write a new Ed25519 private key (PEM, mode 0600) for TRIGGER_LOG_SIGNING_KEY_FILE and "
        "print its public key. Never overwrites a file: every signature depends on the key."
    )
    requires_system_checks = []  # it makes the key the deployment check asks for

    def add_arguments(self, parser):
        parser.add_argument("path", help="where to write the private key, e.g. /etc/risk/key.pem")

    def handle(self, *args, path: str, **options) -> None:
        try:
            key = signing.create_key_file(path)
        except FileExistsError as error:
            raise CommandError(f"{path} exists: a key is never overwritten.") from error
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error}") from error
        public = key.public_key()
        self.stdout.write(f"Private key written to {path} (keep it outside the database).")
        self.stdout.write(f"Key id: {signing.key_id(public)}")
        self.stdout.write(signing.public_key_pem(public), ending="")
