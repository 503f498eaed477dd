"""Load a backup into an empty, migrated database, then check the trigger log's chain."""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from risks.models import Risk
from risks.services import history_baseline_all
from roadmap.models import Agency


class Command(BaseCommand):
    help = "Restore a backup written by backup_register into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options) -> None:
        if Risk.objects.exists() or Agency.objects.exists():
            raise CommandError("Restore needs an empty register: this database already has one.")
        with transaction.atomic():
            # The backup carries the history itself: loading links must not add rows to it.
            with override_settings(SIMPLE_HISTORY_ENABLED=False):
                call_command("loaddata", path, verbosity=0)
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
