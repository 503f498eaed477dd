"""python manage.py import_register FILE [--dry-run] [--user USERNAME]: a CSV or XLSX file in
the board export's columns into the register (risks/importing.py; README "Importing a
register"). All or nothing: any error is listed with its row and column, and nothing is
written."""

from __future__ import annotations

import getpass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from risks.importing import import_file


class Command(BaseCommand):
    help = "Import risks from a CSV or XLSX file in the register export's columns."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv or .xlsx file, e.g. an edited /risks/export.csv")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and write nothing."
        )
        parser.add_argument(
            "--user",
            help="The account the history and assessments name (default: none; the history's "
            "reason names the login running the command).",
        )

    def handle(self, *args, file: str, dry_run: bool, user: str | None, **options) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        account = None
        if user:
            try:
                account = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {user!r}.") from None
        report = import_file(path, user=account, dry_run=dry_run, actor=_login())
        for error in report.errors:
            self.stderr.write(str(error))
        if report.errors:
            raise CommandError(report.summary())
        self.stdout.write(report.summary())


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "command line"
