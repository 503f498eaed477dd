"""Key risk indicators: a reading that crosses a threshold flags its risk for trigger review."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from risks.models import Indicator, IndicatorBreach, Risk
from risks.selectors import open_breaches
from risks.services import (
    StateConflict,
    contingency_invoke,
    indicator_breach_dismiss,
    indicators_evaluate,
)
from roadmap.services import metric_reading_record
from tests.factories import IndicatorFactory, MetricFactory, RiskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def indicator():
    """R3 is flagged when drug-related homicides in Mexico exceed 30,000 a year."""
    return IndicatorFactory(
        risk=RiskFactory(code="R3"),
        metric=MetricFactory(name="Drug-related homicides in Mexico", unit="Deaths a year"),
        comparison=Indicator.Comparison.ABOVE,
        threshold=30000,
    )


def record(indicator, value, user, day=1):
    return metric_reading_record(
        metric=indicator.metric,
        observed_on=datetime.date(2027, 1, day),
        value=value,
        source="INEGI",
        user=user,
    )


def test_a_reading_above_the_threshold_flags_the_risk(indicator, staff_member):
    reading = record(indicator, "31250", staff_member)

    breach = open_breaches(risk=indicator.risk).get()
    assert (breach.indicator, breach.reading) == (indicator, reading)
    assert reading.recorded_by == staff_member


def test_a_reading_below_the_threshold_does_not(indicator, staff_member):
    record(indicator, "29999.99", staff_member)
    assert not IndicatorBreach.objects.exists()


def test_inactive_indicators_and_closed_risks_are_not_flagged(indicator, staff_member):
    IndicatorFactory(
        metric=indicator.metric,
        risk=RiskFactory(
            status=Risk.Status.CLOSED, closure_reason="Retired.", closed_at=timezone.now()
        ),
    )
    indicator.active = False
    indicator.save()
    record(indicator, 40000, staff_member)
    assert not IndicatorBreach.objects.exists()


def test_the_same_reading_flags_once(indicator, staff_member):
    reading = record(indicator, 40000, staff_member)
    assert indicators_evaluate(reading=reading) == []
    assert IndicatorBreach.objects.count() == 1


@pytest.mark.parametrize(
    ("comparison", "crossed_at_threshold", "crossed_below"),
    [
        ("above", False, False),
        ("at_or_above", True, False),
        ("below", False, True),
        ("at_or_below", True, True),
    ],
)
def test_comparisons(comparison, crossed_at_threshold, crossed_below):
    indicator = Indicator(comparison=comparison, threshold=Decimal(100))
    assert indicator.crossed_by(Decimal(100)) is crossed_at_threshold
    assert indicator.crossed_by(Decimal("99.99")) is crossed_below


def test_dismissing_needs_a_reason_and_clears_the_flag(indicator, staff_member):
    record(indicator, 40000, staff_member)
    breach = IndicatorBreach.objects.get()

    with pytest.raises(ValidationError) as error:
        indicator_breach_dismiss(breach=breach, user=staff_member, reason="  ")
    assert "reason" in error.value.message_dict

    dismissed = indicator_breach_dismiss(
        breach=breach, user=staff_member, reason="Reporting artefact."
    )
    assert dismissed.status == IndicatorBreach.Status.DISMISSED
    assert dismissed.resolved_by == staff_member
    assert not open_breaches().exists()
    with pytest.raises(StateConflict):
        indicator_breach_dismiss(breach=breach, user=staff_member, reason="Again.")


def test_the_database_refuses_a_dismissal_without_reason(indicator, staff_member):
    record(indicator, 40000, staff_member)
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorBreach.objects.update(status="dismissed", resolved_at=timezone.now())


def test_invoking_the_contingency_resolves_the_open_breaches(indicator, staff_member):
    record(indicator, 40000, staff_member, day=1)
    record(indicator, 41000, staff_member, day=2)

    entry = contingency_invoke(risk=indicator.risk, user=staff_member, reason="Threshold crossed.")

    assert not open_breaches().exists()
    for breach in IndicatorBreach.objects.all():
        assert breach.status == IndicatorBreach.Status.CONTINGENCY_INVOKED
        assert f"#{entry.sequence}" in breach.resolution_reason
        assert breach.history.count() == 2


def test_a_reading_before_the_indicator_applies_does_not_flag(indicator, staff_member):
    indicator.applies_from = datetime.date(2027, 1, 2)
    indicator.save()
    record(indicator, "40000", staff_member, day=1)
    assert not IndicatorBreach.objects.exists()
    reading = record(indicator, "40000", staff_member, day=2)
    assert open_breaches(risk=indicator.risk).get().reading == reading
