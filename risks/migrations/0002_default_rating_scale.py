"""The default 5 x 5 scale, its bands and the board's initial risk appetite, as data."""

import datetime

from django.db import migrations

LEVEL_LABELS = ["Low", "Medium-Low", "Medium", "Medium-High", "High"]

LIKELIHOOD = [
    "Rare within the ten-year roadmap; would need an unforeseen change of circumstances (under 10%).",
    "Could occur but is not expected during the phase in which the risk applies (10-30%).",
    "As likely as not to occur during the phase in which the risk applies (30-50%).",
    "More likely than not; early signs are already visible (50-80%).",
    "Expected to occur unless the response succeeds; evidence is already present (over 80%).",
]
IMPACT = [
    "Negligible effect on roadmap milestones; absorbed within normal management.",
    "Minor delay to one key action or metric; no change to phase objectives.",
    "Delays a phase milestone or a success metric's target by up to a year.",
    "Puts a phase objective out of reach without significant change of approach or funding.",
    "Defeats a phase objective or the reform trajectory as a whole; requires board decision.",
]
BANDS = [
    # name, min, max, colour, text colour, review every N days
    ("Low", 1, 4, "#2e7d32", "#ffffff", 180),
    ("Moderate", 5, 9, "#fee08b", "#000000", 90),
    ("High", 10, 15, "#fc8d59", "#000000", 60),
    ("Critical", 16, 25, "#b71c1c", "#ffffff", 30),
]


def create_scale(apps, schema_editor):
    RatingLevel = apps.get_model("risks", "RatingLevel")
    RatingBand = apps.get_model("risks", "RatingBand")
    RiskAppetite = apps.get_model("risks", "RiskAppetite")
    for axis, definitions in (("likelihood", LIKELIHOOD), ("impact", IMPACT)):
        for level, (label, definition) in enumerate(zip(LEVEL_LABELS, definitions), start=1):
            RatingLevel.objects.get_or_create(
                axis=axis, level=level, defaults={"label": label, "definition": definition}
            )
    for name, low, high, colour, text_colour, days in BANDS:
        RatingBand.objects.get_or_create(
            name=name,
            defaults={
                "min_score": low,
                "max_score": high,
                "colour": colour,
                "text_colour": text_colour,
                "review_frequency_days": days,
            },
        )
    RiskAppetite.objects.get_or_create(
        effective_from=datetime.date(2026, 1, 1),
        defaults={
            "max_score": 9,
            # The project's proposal, not a board decision (0011 relabels older databases).
            "approved_by": "Project default (proposed; not yet approved by the board)",
            "statement": (
                "The board accepts risks up to Moderate (score 9) where a response is in place. "
                "Any risk scoring above 9 needs an active mitigation plan reviewed at every "
                "quarterly meeting."
            ),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("risks", "0001_initial")]
    operations = [migrations.RunPython(create_scale, migrations.RunPython.noop)]
