"""Writes to the plan. A saved metric reading is announced (roadmap.signals), so the register
can check its risk indicators without the plan knowing of it."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from common.history import saved_by
from common.integrity import unique_or_invalid
from common.services import model_update
from roadmap.models import KeyAction, Metric, MetricReading
from roadmap.signals import metric_reading_saved


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
    saved_by(reading, user=user, reason="metric_reading_record")
    with unique_or_invalid(reading):
        reading.save()
    metric_reading_saved.send(sender=MetricReading, reading=reading)
    return reading


@transaction.atomic
def metric_reading_correct(*, reading: MetricReading, user) -> MetricReading:
    """Save a corrected reading; it is checked against the indicators again (a breach already
    opened for it is not repeated)."""
    reading.full_clean()
    saved_by(reading, user=user, reason="metric_reading_correct")
    with unique_or_invalid(reading):
        reading.save()
    metric_reading_saved.send(sender=MetricReading, reading=reading)
    return reading


@transaction.atomic
def key_action_update(
    *, key_action: KeyAction, user, expected_version: int | None = None, **fields
) -> KeyAction:
    """Change a key action; refused if someone else saved it since `expected_version`."""
    return model_update(
        instance=key_action,
        data=fields,
        user=user,
        expected_version=expected_version,
        m2m=["lead_agencies"],
        reason="key_action_update",
    )


@transaction.atomic
def metric_update(*, metric: Metric, user, expected_version: int | None = None, **fields) -> Metric:
    """Change a metric's definition; refused if someone else saved it since `expected_version`."""
    return model_update(
        instance=metric,
        data=fields,
        user=user,
        expected_version=expected_version,
        m2m=["phases"],
        reason="metric_update",
    )


@transaction.atomic
def key_action_create(*, user, lead_agencies=(), **fields) -> KeyAction:
    """Add a key action to the plan, with its lead agencies."""
    key_action = KeyAction(**fields)
    saved_by(key_action, user=user, reason="key_action_create")
    key_action.full_clean()
    with unique_or_invalid(key_action):
        key_action.save()
    key_action.lead_agencies.set(lead_agencies)
    return key_action
