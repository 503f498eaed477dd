"""Writes to the register. The admin, the API and commands all change risks through here."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from risks.models import Assessment, Confidence, MitigationAction, Risk
from risks.selectors import review_frequency_days


def _next_review(*, risk: Risk, on: datetime.date) -> datetime.date | None:
    days = review_frequency_days(risk=risk)
    return on + datetime.timedelta(days=days) if days else None


@transaction.atomic
def risk_assess(
    *,
    risk: Risk,
    likelihood: int,
    impact: int,
    rationale: str,
    user,
    confidence: str = Confidence.MEDIUM,
    assessed_at: datetime.datetime | None = None,
) -> Assessment:
    """Record a rating of `risk` and make it the risk's current rating."""
    if risk.status == Risk.Status.CLOSED:
        raise ValidationError("A closed risk cannot be re-assessed.")
    assessment = Assessment(
        risk=risk,
        likelihood=likelihood,
        impact=impact,
        rationale=(rationale or "").strip(),
        confidence=confidence,
        assessed_by=user,
        assessed_at=assessed_at or timezone.now(),
    )
    assessment.full_clean()
    assessment.save()

    risk.likelihood = likelihood
    risk.impact = impact
    risk.score = likelihood * impact
    risk.confidence = confidence
    risk.last_assessed_at = assessment.assessed_at
    risk.next_review_due = _next_review(risk=risk, on=assessment.assessed_at.date())
    risk.full_clean()
    risk.save()
    return assessment


@transaction.atomic
def risk_create(*, user, rationale: str, confidence: str = Confidence.MEDIUM, **fields) -> Risk:
    """Create a risk with its first assessment, so its rating has a history from day one."""
    m2m = {
        name: fields.pop(name)
        for name in ("supporting_agencies", "phases", "key_actions")
        if name in fields
    }
    risk = Risk(**fields, confidence=confidence)
    risk.score = (risk.likelihood or 0) * (risk.impact or 0)
    risk.full_clean(exclude=["score"])
    risk.save()
    for name, values in m2m.items():
        getattr(risk, name).set(values)
    risk_assess(
        risk=risk,
        likelihood=risk.likelihood,
        impact=risk.impact,
        rationale=rationale,
        user=user,
        confidence=confidence,
    )
    return risk


@transaction.atomic
def risk_close(*, risk: Risk, reason: str, user) -> Risk:
    """Retire a risk: it keeps its history and leaves the active register."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"closure_reason": "Say why the risk is being closed."})
    if risk.status == Risk.Status.CLOSED:
        raise ValidationError("This risk is already closed.")
    if risk.status == Risk.Status.CONTINGENCY_ACTIVE:
        raise ValidationError("Stand down the active contingency before closing the risk.")
    risk.status = Risk.Status.CLOSED
    risk.closure_reason = reason
    risk.closed_by = user
    risk.closed_at = timezone.now()
    risk.next_review_due = None
    risk.full_clean()
    risk.save()
    return risk


RATING_FIELDS = ("likelihood", "impact", "score")
M2M_FIELDS = ("supporting_agencies", "phases", "key_actions")


@transaction.atomic
def risk_update(*, risk: Risk, user, **fields) -> Risk:
    """Change a risk's descriptive fields. The current rating only changes by `risk_assess`."""
    changed_rating = [f for f in RATING_FIELDS if f in fields and fields[f] != getattr(risk, f)]
    if changed_rating:
        raise ValidationError(
            dict.fromkeys(changed_rating, "Change the current rating with a new assessment.")
        )
    if fields.get("status") in (Risk.Status.CLOSED, Risk.Status.CONTINGENCY_ACTIVE):
        raise ValidationError(
            {"status": "Close a risk or invoke its contingency through their own actions."}
        )
    m2m = {name: fields.pop(name) for name in M2M_FIELDS if name in fields}
    for name, value in fields.items():
        setattr(risk, name, value)
    risk.full_clean()
    risk.save()
    for name, values in m2m.items():
        getattr(risk, name).set(values)
    return risk


def _check_due_date(mitigation: MitigationAction) -> None:
    created = mitigation.risk.created_at
    if mitigation.due_date and created and mitigation.due_date < created.date():
        raise ValidationError(
            {"due_date": f"The due date is before the risk was recorded ({created.date()})."}
        )


@transaction.atomic
def mitigation_create(*, user, **fields) -> MitigationAction:
    mitigation = MitigationAction(**fields)
    mitigation.full_clean()
    _check_due_date(mitigation)
    mitigation.save()
    return mitigation


@transaction.atomic
def mitigation_update(*, mitigation: MitigationAction, user, **fields) -> MitigationAction:
    for name, value in fields.items():
        setattr(mitigation, name, value)
    mitigation.full_clean()
    _check_due_date(mitigation)
    mitigation.save()
    return mitigation
