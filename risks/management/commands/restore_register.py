"""Decrypt a backup in memory, load it into an empty, migrated database, then check the
trigger log's chain. A wrong key or a changed file stops before the database is touched."""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from common import backup_crypto, signing
from risks.models import Risk
from risks.services import history_baseline_all
from roadmap.models import Agency


class Command(BaseCommand):
    help = "Restore a backup written by backup_register into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--key", required=True, help="the age private key file")

    def handle(self, *args, path: str, key: str, **options) -> None:
        try:
            # The restored chain is verified with the signing key: without it, stop before
            # anything is loaded rather than after.
            signing.public_key()
        except (ImproperlyConfigured, OSError, ValueError) as error:
            raise CommandError(f"{error} Nothing was changed.") from error
        try:
            identity = backup_crypto.identity_read(key)
            sealed = Path(path).read_bytes()
        except backup_crypto.BackupKeyError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(f"Cannot read the backup {path}: {error}") from error
        try:
            data = gzip.decompress(backup_crypto.decrypt(sealed, identity)).decode("utf-8")
        except backup_crypto.BackupDecryptError as error:
            raise CommandError(f"{error} Nothing was changed.") from error
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
            raise CommandError(f"The decrypted backup is not gzip JSON ({error}).") from error
        del sealed

        if Risk.objects.exists() or Agency.objects.exists():
            raise CommandError("Restore needs an empty register: this database already has one.")
        with transaction.atomic():
            # The backup carries the history itself: loading links must not add rows to it.
            with override_settings(SIMPLE_HISTORY_ENABLED=False), _stdin(data):
                call_command("loaddata", "-", format="json", verbosity=0)
            history_baseline_all(reason="baseline: restored from a backup without history")
        counts = {
            model._meta.label: model.objects.count()
            for model in apps.get_app_config("risks").get_models()
            if not model._meta.label.startswith("risks.Historical")
        }
        for label, count in sorted(counts.items()):
            self.stdout.write(f"{label}: {count}")
        # A restore is only good if the tamper-evident chain survived it.
        call_command("verify_trigger_log", stdout=self.stdout)


@contextmanager
def _stdin(text: str):
    """loaddata reads "-" from sys.stdin: hand it the decrypted text, never a file."""
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved
