"""The seed gives each of the five risks a key risk indicator from the metrics table."""

from __future__ import annotations

from decimal import Decimal

import pytest

from risks.models import Indicator, IndicatorBreach
from roadmap.models import Metric
from roadmap.services import metric_reading_record

pytestmark = pytest.mark.django_db

EXPECTED = {
    "R1": ("International drug spending balance (demand/supply)", "at_or_below", Decimal(20)),
    "R2": ("Nations supporting treaty flexibility at CND", "below", Decimal(15)),
    "R3": ("Drug-related homicides in Mexico", "above", Decimal(30000)),
    "R4": ("Fentanyl precursor agreement signatories", "below", Decimal(5)),
    "R5": ("Global coca cultivation", "above", Decimal(355000)),
}


def test_each_risk_has_its_indicator(seed):
    found = {
        i.risk.code: (i.metric.name, i.comparison, i.threshold)
        for i in Indicator.objects.select_related("risk", "metric")
    }
    assert found == EXPECTED


def test_a_homicide_reading_above_30000_flags_r3(seed, staff_member):
    metric = Metric.objects.get(name="Drug-related homicides in Mexico")
    metric_reading_record(
        metric=metric, observed_on="2026-12-31", value=31500, source="INEGI", user=staff_member
    )
    breach = IndicatorBreach.objects.get()
    assert breach.indicator.risk.code == "R3"
    assert breach.status == "open"


def test_r4_threshold_applies_from_year_5(seed):
    assert Indicator.objects.get(risk__code="R4").applies_from.isoformat() == "2030-01-01"
    assert not Indicator.objects.exclude(risk__code="R4").filter(applies_from__isnull=False)


@pytest.mark.parametrize(
    ("observed_on", "flags"), [("2027-06-30", False), ("2029-12-31", False), ("2030-01-01", True)]
)
def test_early_precursor_readings_do_not_flag_r4(seed, staff_member, observed_on, flags):
    metric = Metric.objects.get(name="Fentanyl precursor agreement signatories")
    metric_reading_record(
        metric=metric, observed_on=observed_on, value=2, source="State", user=staff_member
    )
    assert IndicatorBreach.objects.filter(indicator__risk__code="R4").exists() is flags
