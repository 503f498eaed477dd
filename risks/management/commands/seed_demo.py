"""Load the seed into an empty register, and only then: `make demo` run twice keeps edits."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from risks.models import Risk
from risks.services import history_baseline_all
from roadmap.models import Agency


class Command(BaseCommand):
    help = "Load fixtures/roadmap.json when the register is empty; otherwise change nothing."

    def handle(self, *args, **options) -> None:
        risks, agencies = Risk.objects.count(), Agency.objects.count()
        if risks or agencies:
            self.stdout.write(
                f"The register already holds {risks} risks and {agencies} agencies: "
                "the seed was not loaded again, and every edit is kept. "
                "`make demo-reset` starts over."
            )
            return
        with transaction.atomic():
            # Loading links would write undated "changed" history rows; the baseline below
            # writes one dated row per record instead.
            with override_settings(SIMPLE_HISTORY_ENABLED=False):
                call_command("loaddata", "roadmap", verbosity=options["verbosity"])
            history_baseline_all(reason="baseline: the seed document")
        self.stdout.write(f"Seed loaded: {Risk.objects.count()} risks, with baseline history.")
