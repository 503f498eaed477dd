"""Writes to the plan. Recording a metric reading also checks the register's risk indicators."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from risks.services import indicators_evaluate
from roadmap.models import Metric, MetricReading


@transaction.atomic
def metric_reading_record(
    *,
    metric: Metric,
    observed_on: datetime.date,
    value: Decimal | int | str,
    source: str,
    note: str = "",
    user,
) -> MetricReading:
    """Save a reading of `metric`; one that crosses an indicator flags its risk for review."""
    reading = MetricReading(
        metric=metric,
        observed_on=observed_on,
        value=value,
        source=(source or "").strip(),
        note=(note or "").strip(),
        recorded_by=user,
    )
    reading.full_clean()
    reading._history_user = user
    reading.save()
    indicators_evaluate(reading=reading)
    return reading
