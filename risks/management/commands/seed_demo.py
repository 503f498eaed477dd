"""Load the seed into an empty register, and only then: `make demo` run twice keeps edits."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from risks.models import Risk
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
        call_command("loaddata", "roadmap", verbosity=options["verbosity"])
        self.stdout.write(f"Seed loaded: {Risk.objects.count()} risks.")
