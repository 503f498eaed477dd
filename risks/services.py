"""Writes to the register. The admin, the API and commands all change risks through here."""

from __future__ import annotations

import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from common.calendar import PROGRAMME_START
from common.history import history_baseline, saved_by
from common.integrity import unique_or_invalid
from common.services import model_update
from common.versions import StaleEdit, StateConflict, version_check  # noqa: F401
from risks import rules
from risks.models import (
    Assessment,
    BoardReview,
    Confidence,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    ReviewSnapshot,
    Risk,
    RiskAcceptance,
    TriggerChainHead,
    TriggerEntry,
)
from risks.notifications import trigger_entry_notify
from risks.selectors import review_frequency_days
from risks.trigger_chain import checkpoint_sign, entry_digest
from roadmap.models import KeyAction, Metric, MetricReading


def _next_review(*, risk: Risk, on: datetime.date | None) -> datetime.date | None:
    return rules.next_review_due(reviewed_on=on, frequency_days=review_frequency_days(risk=risk))


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
    expected_version: int | None = None,
    change_reason: str | None = None,
) -> Assessment:
    """Record a rating of `risk` and make it the risk's current rating.

    Only the rating fields are written, on the row as read under lock, so a re-rating never
    carries stale copies of other fields over someone else's edit. `change_reason` is what
    the risk's history row says (e.g. an import names its file and user)."""
    caller_copy = risk
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    version_check(risk, expected_version)
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
    risk.score = rules.score(likelihood, impact)
    risk.confidence = confidence
    risk.last_assessed_at = assessment.assessed_at
    risk.next_review_due = _next_review(risk=risk, on=assessment.assessed_at.date())
    saved_by(
        risk,
        user=user,
        reason=change_reason or f"Assessment #{assessment.pk}: {assessment.rationale}",
    )
    risk.full_clean()
    rating_fields = ["likelihood", "impact", "score", "confidence", "last_assessed_at"]
    risk.save(update_fields=[*rating_fields, "next_review_due", "version", "updated_at"])
    for field in [*rating_fields, "next_review_due", "version", "updated_at"]:
        setattr(caller_copy, field, getattr(risk, field))
    return assessment


@transaction.atomic
def risk_create(
    *,
    user,
    rationale: str,
    confidence: str = Confidence.MEDIUM,
    change_reason: str | None = None,
    **fields,
) -> Risk:
    """Create a risk with its first assessment, so its rating has a history from day one."""
    m2m = {
        name: fields.pop(name)
        for name in ("supporting_agencies", "phases", "key_actions")
        if name in fields
    }
    fields.pop("next_review_due", None)  # derived from the first assessment, never typed
    risk = Risk(**fields, confidence=confidence)
    risk.score = rules.score(risk.likelihood, risk.impact) or 0
    risk.full_clean(exclude=["score"])
    saved_by(risk, user=user, reason=change_reason or "risk_create")
    with unique_or_invalid(risk):
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
        change_reason=change_reason,
    )
    return risk


@transaction.atomic
def risk_close(*, risk: Risk, reason: str, user) -> Risk:
    """Retire a risk: it keeps its history and leaves the active register.

    Reads the row under lock: the status that counts is the current one, and only the
    closure fields are written, never stale copies of the others."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"closure_reason": "Say why the risk is being closed."})
    locked = Risk.objects.select_for_update().get(pk=risk.pk)
    if locked.status == Risk.Status.CLOSED:
        raise StateConflict("This risk is already closed.")
    if locked.status == Risk.Status.CONTINGENCY_ACTIVE:
        raise StateConflict("Stand down the active contingency before closing the risk.")
    locked.status = Risk.Status.CLOSED
    locked.closure_reason = reason
    locked.closed_by = user
    locked.closed_at = timezone.now()
    locked.next_review_due = None
    saved_by(locked, user=user, reason=f"risk_close: {reason}")
    locked.full_clean()
    closure = ["status", "closure_reason", "closed_by", "closed_at", "next_review_due"]
    locked.save(update_fields=[*closure, "version", "updated_at"])
    for field in [*closure, "version", "updated_at"]:
        setattr(risk, field, getattr(locked, field))
    return risk


RATING_FIELDS = ("likelihood", "impact", "score")
M2M_FIELDS = ("supporting_agencies", "phases", "key_actions")


@transaction.atomic
def risk_update(
    *,
    risk: Risk,
    user,
    expected_version: int | None = None,
    change_reason: str | None = None,
    **fields,
) -> Risk:
    """Change a risk's descriptive fields. The current rating only changes by `risk_assess`."""
    version_check(risk, expected_version)  # before any other refusal: a stale form says so
    changed_rating = [f for f in RATING_FIELDS if f in fields and fields[f] != getattr(risk, f)]
    if changed_rating:
        raise ValidationError(
            dict.fromkeys(changed_rating, "Change the current rating with a new assessment.")
        )
    if not rules.status_edit_allowed(risk.status, fields.get("status", risk.status)):
        raise ValidationError({"status": rules.WORKFLOW_STATUS_MESSAGE})
    if "next_review_due" in fields:
        raise ValidationError(
            {
                "next_review_due": "The next review date follows from the last review and the "
                "review frequency; change the frequency instead."
            }
        )
    frequency = fields.get("review_frequency_days", risk.review_frequency_days)
    if frequency != risk.review_frequency_days and risk.status != Risk.Status.CLOSED:
        # A new frequency moves the next review, counted from the last one.
        reviewed = risk.last_assessed_at.date() if risk.last_assessed_at else None
        risk.review_frequency_days = frequency
        fields["next_review_due"] = _next_review(risk=risk, on=reviewed)
    return model_update(
        instance=risk, data=fields, user=user, m2m=M2M_FIELDS, reason=change_reason or "risk_update"
    )


def _check_due_date(mitigation: MitigationAction) -> None:
    created = mitigation.risk.created_at
    if mitigation.due_date and created and mitigation.due_date < created.date():
        raise ValidationError(
            {"due_date": f"The due date is before the risk was recorded ({created.date()})."}
        )


@transaction.atomic
def mitigation_create(*, user, **fields) -> MitigationAction:
    mitigation = MitigationAction(**fields)
    saved_by(mitigation, user=user, reason="mitigation_create")
    mitigation.full_clean()
    _check_due_date(mitigation)
    mitigation.save()
    return mitigation


@transaction.atomic
def mitigation_update(
    *, mitigation: MitigationAction, user, expected_version: int | None = None, **fields
) -> MitigationAction:
    return model_update(
        instance=mitigation,
        data=fields,
        user=user,
        expected_version=expected_version,
        check=_check_due_date,
        reason="mitigation_update",
    )


# --- Contingencies and the trigger log --------------------------------------------------


def _entry_text(
    *, reason: str, evidence: str, actions_taken: str, authorised_by: str
) -> dict[str, str]:
    text = {
        "reason": (reason or "").strip(),
        "evidence": (evidence or "").strip(),
        "actions_taken": (actions_taken or "").strip(),
        "authorised_by": (authorised_by or "").strip(),
    }
    if not text["reason"]:
        raise ValidationError({"reason": "Give the reason for this entry."})
    return text


def _risk_locked(risk: Risk) -> Risk:
    # The caller's instance may be stale: the status that counts is the one read under lock.
    return Risk.objects.select_for_update().get(pk=risk.pk)


def _now_to_the_millisecond() -> datetime.datetime:
    # Django's JSON serialiser (backup_register) keeps milliseconds, and the entry's hash
    # and its head's signature must hold after a restore.
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


MILLISECOND = datetime.timedelta(milliseconds=1)


def _head_locked() -> TriggerChainHead:
    # The head row's lock serialises every writer of the chain (a no-op on SQLite, whose
    # writes are serialised anyway); unique sequence and prev_hash are the last defence.
    head, _ = TriggerChainHead.objects.select_for_update().get_or_create(pk=1)
    return head


def _entry_append(*, risk: Risk, user, kind: str, text: dict[str, str]) -> TriggerEntry:
    if user is None or not user.has_perm("risks.add_triggerentry"):
        # Verification checks every recorder held this permission; the faces check first.
        raise ValidationError(
            "Only Staff (risks.add_triggerentry) record trigger log entries.", code="permission"
        )
    head = _head_locked()
    recorded_at = _now_to_the_millisecond()
    last = TriggerEntry.objects.filter(sequence=head.sequence).values_list("recorded_at")
    if head.sequence and last and recorded_at <= last[0][0]:
        # Times only increase along the chain, even when the clock steps back.
        recorded_at = last[0][0] + MILLISECOND
    entry = TriggerEntry(
        sequence=head.sequence + 1,
        prev_hash=head.entry_hash,
        kind=kind,
        risk=risk,
        risk_code=risk.code,
        recorded_at=recorded_at,
        recorded_by=user,
        recorded_by_username=user.get_username(),
        previous_status=risk.status,
        **text,
    )
    entry.entry_hash = entry_digest(entry)
    # Sign before writing anything: without a key nothing is written.
    checkpoint = checkpoint_sign(
        entry=entry, sequence=entry.sequence, entry_hash=entry.entry_hash, signed_at=recorded_at
    )
    entry.full_clean()
    entry.save()
    checkpoint.entry = entry
    checkpoint.full_clean()
    checkpoint.save()
    head.sequence, head.entry_hash = entry.sequence, entry.entry_hash
    head.full_clean()
    head.save()
    transaction.on_commit(partial(trigger_entry_notify, entry=entry))
    return entry


def _risk_status_set(*, risk: Risk, status: str, entry: TriggerEntry, user) -> None:
    risk.status = status
    reason = f"{entry.get_kind_display()}: trigger log entry #{entry.sequence}"
    saved_by(risk, user=user, reason=reason)
    risk.full_clean()
    risk.save()


def _contingency_opening(
    *, risk: Risk, needs_active: bool, expected_version: int | None, **text: str
) -> tuple[Risk, dict[str, str]]:
    """What every contingency service does first, in this order: check the entry's text (a
    reason is required), lock the risk's row (the status that counts is the one read under
    the lock, not the caller's copy), check the version the caller started from (when it
    names one), and refuse a state the action does not apply to. Nothing is written."""
    text = _entry_text(**text)
    locked = _risk_locked(risk)
    version_check(locked, expected_version)
    active = locked.status == Risk.Status.CONTINGENCY_ACTIVE
    if needs_active and not active:
        raise StateConflict(f"No contingency is active for {locked.code}.")
    if not needs_active and active:
        raise StateConflict(f"The contingency for {locked.code} is already active.")
    if not needs_active and locked.status == Risk.Status.CLOSED:
        raise StateConflict(f"{locked.code} is closed: its contingency cannot be invoked.")
    return locked, text


@transaction.atomic
def contingency_invoke(
    *,
    risk: Risk,
    user,
    reason: str,
    evidence: str = "",
    actions_taken: str = "",
    authorised_by: str = "",
    expected_version: int | None = None,
) -> TriggerEntry:
    """Put the risk's contingency plan into effect and resolve the breaches that flagged it."""
    locked, text = _contingency_opening(
        risk=risk,
        needs_active=False,
        expected_version=expected_version,
        reason=reason,
        evidence=evidence,
        actions_taken=actions_taken,
        authorised_by=authorised_by,
    )
    entry = _entry_append(risk=locked, user=user, kind=TriggerEntry.Kind.INVOKED, text=text)
    _risk_status_set(risk=locked, status=Risk.Status.CONTINGENCY_ACTIVE, entry=entry, user=user)
    for breach in IndicatorBreach.objects.select_for_update(of=("self",)).filter(
        indicator__risk=locked, status=IndicatorBreach.Status.OPEN
    ):
        _breach_resolve(
            breach=breach,
            user=user,
            status=IndicatorBreach.Status.CONTINGENCY_INVOKED,
            reason=f"Contingency invoked: trigger log entry #{entry.sequence}.",
        )
    risk.status = locked.status
    return entry


@transaction.atomic
def contingency_update(
    *,
    risk: Risk,
    user,
    reason: str,
    evidence: str = "",
    actions_taken: str = "",
    authorised_by: str = "",
    expected_version: int | None = None,
) -> TriggerEntry:
    """Record progress while the contingency is active; the risk's status does not change."""
    locked, text = _contingency_opening(
        risk=risk,
        needs_active=True,
        expected_version=expected_version,
        reason=reason,
        evidence=evidence,
        actions_taken=actions_taken,
        authorised_by=authorised_by,
    )
    return _entry_append(risk=locked, user=user, kind=TriggerEntry.Kind.UPDATE, text=text)


@transaction.atomic
def contingency_stand_down(
    *,
    risk: Risk,
    user,
    reason: str,
    evidence: str = "",
    actions_taken: str = "",
    authorised_by: str = "",
    expected_version: int | None = None,
) -> TriggerEntry:
    """End the active contingency and return the risk to its status before the invocation."""
    locked, text = _contingency_opening(
        risk=risk,
        needs_active=True,
        expected_version=expected_version,
        reason=reason,
        evidence=evidence,
        actions_taken=actions_taken,
        authorised_by=authorised_by,
    )
    invoked = (
        locked.trigger_entries.filter(kind=TriggerEntry.Kind.INVOKED).order_by("-sequence").first()
    )
    # A risk loaded as contingency_active without an invocation in the log goes back to open.
    restored = invoked.previous_status if invoked else Risk.Status.OPEN
    entry = _entry_append(risk=locked, user=user, kind=TriggerEntry.Kind.STOOD_DOWN, text=text)
    _risk_status_set(risk=locked, status=restored, entry=entry, user=user)
    risk.status = locked.status
    return entry


# --- Key risk indicators -----------------------------------------------------------------


@transaction.atomic
def indicator_create(*, user, **fields) -> Indicator:
    indicator = Indicator(**fields)
    saved_by(indicator, user=user, reason="indicator_create")
    indicator.full_clean()
    with unique_or_invalid(indicator):
        indicator.save()
    return indicator


@transaction.atomic
def indicator_update(*, indicator: Indicator, user, **fields) -> Indicator:
    return model_update(instance=indicator, data=fields, user=user, reason="indicator_update")


@transaction.atomic
def indicators_evaluate(*, reading: MetricReading) -> list[IndicatorBreach]:
    """Open a breach, flagging the risk for trigger review, for every active indicator of the
    reading's metric that its value crosses. An indicator whose threshold applies only from a
    given day ignores readings observed before it. Evaluating the same reading again adds
    nothing."""
    already = set(
        IndicatorBreach.objects.filter(reading=reading).values_list("indicator_id", flat=True)
    )
    indicators = (
        Indicator.objects.filter(metric_id=reading.metric_id, active=True)
        .exclude(risk__status=Risk.Status.CLOSED)
        .exclude(pk__in=already)
        .select_related("risk")
    )
    breaches = []
    for indicator in indicators:
        if not indicator.applies_on(reading.observed_on) or not indicator.crossed_by(reading.value):
            continue
        breach = IndicatorBreach(indicator=indicator, reading=reading)
        saved_by(breach, reason=f"indicators_evaluate: metric reading #{reading.pk}")
        breach.full_clean()
        breach.save()
        breaches.append(breach)
    return breaches


def _breach_resolve(*, breach: IndicatorBreach, user, status: str, reason: str) -> None:
    breach.status = status
    breach.resolved_by = user
    breach.resolved_at = timezone.now()
    breach.resolution_reason = reason
    saved_by(breach, user=user, reason=f"{breach.get_status_display()}: {reason}")
    breach.full_clean()
    breach.save()


@transaction.atomic
def indicator_breach_dismiss(*, breach: IndicatorBreach, user, reason: str) -> IndicatorBreach:
    """Clear the flag without invoking the contingency, saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the breach is dismissed."})
    locked = IndicatorBreach.objects.select_for_update().get(pk=breach.pk)
    if locked.status != IndicatorBreach.Status.OPEN:
        raise StateConflict(f"This breach is already resolved ({locked.get_status_display()}).")
    _breach_resolve(
        breach=locked, user=user, status=IndicatorBreach.Status.DISMISSED, reason=reason
    )
    return locked


# --- Quarterly board reviews and risk acceptances ----------------------------------------

REVIEW_EDITABLE_FIELDS = ("meeting_date", "attendees", "decisions")


def _board_only(user, permission: str, action: str) -> None:
    # The pages check first (403); this keeps the rule true for any other caller.
    if user is None or not user.has_perm(permission):
        raise ValidationError(f"Only the Board can {action}.", code="permission")


def _review_locked(review: BoardReview) -> BoardReview:
    # Whoever holds the row decides: a second finalisation or an edit waits, then sees "final".
    return BoardReview.objects.select_for_update().get(pk=review.pk)


def _refuse_final(review: BoardReview, action: str) -> None:
    if review.is_final:
        raise StateConflict(
            f"The {review.quarter} review was finalised on {review.finalised_at:%Y-%m-%d}: "
            f"it is the board's record and cannot {action}."
        )


@transaction.atomic
def review_create(
    *,
    user,
    quarter: str,
    meeting_date: datetime.date,
    attendees: str,
    decisions: str = "",
) -> BoardReview:
    """Open the record of a quarterly meeting as a draft; finalising it freezes the register."""
    _board_only(user, "risks.add_boardreview", "create a review")
    review = BoardReview(
        quarter=(quarter or "").strip().upper(),
        meeting_date=meeting_date,
        attendees=(attendees or "").strip(),
        decisions=(decisions or "").strip(),
        created_by=user,
    )
    saved_by(review, user=user, reason="review_create")
    review.full_clean()
    with unique_or_invalid(review):
        review.save()
    return review


@transaction.atomic
def review_update(*, review: BoardReview, user, **fields) -> BoardReview:
    """Change a draft's meeting date, attendees or decisions. The quarter names the review
    (and its address) and a final review is the board's record: neither changes."""
    _board_only(user, "risks.change_boardreview", "edit a review")
    unknown = sorted(set(fields) - set(REVIEW_EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(f"A review's {', '.join(unknown)} cannot be changed here.")
    locked = _review_locked(review)
    _refuse_final(locked, "be edited")
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    saved_by(locked, user=user, reason="review_update")
    locked.full_clean()
    locked.save()
    return locked


SNAPSHOT_FIELDS = (
    "likelihood",
    "impact",
    "score",
    "target_likelihood",
    "target_impact",
    "status",
    "confidence",
    "next_review_due",
)


@transaction.atomic
def review_finalise(*, review: BoardReview, user) -> BoardReview:
    """Freeze every open (not closed) risk's rating, target, status, confidence and next
    review date into the review's snapshot, and make the review final. The next heatmap shows
    movement against this snapshot."""
    _board_only(user, "risks.change_boardreview", "finalise a review")
    locked = _review_locked(review)
    _refuse_final(locked, "be finalised again")
    snapshots = []
    rows = (
        Risk.objects.exclude(status=Risk.Status.CLOSED)
        .order_by("pk")
        .values_list("pk", *SNAPSHOT_FIELDS)
    )
    # One statement reads the register, so the snapshot is one consistent moment of it.
    for pk, *values in rows.iterator(chunk_size=2000):
        snapshot = ReviewSnapshot(
            review=locked, risk_id=pk, **dict(zip(SNAPSHOT_FIELDS, values, strict=True))
        )
        # Field checks only: each foreign-key, unique or constraint check would be a query per
        # risk; the values come from rows the database already checked, and it checks again.
        snapshot.full_clean(
            exclude=["review", "risk"], validate_unique=False, validate_constraints=False
        )
        snapshots.append(snapshot)
    ReviewSnapshot.objects.bulk_create(snapshots, batch_size=1000)
    # The review holds the trigger log's head, signed now: the log can later be neither cut
    # back nor rewritten before this point without the review showing it. The head's lock
    # keeps an entry from landing between reading the head and signing it.
    head = _head_locked()
    finalised_at = _now_to_the_millisecond()
    anchor = checkpoint_sign(
        sequence=head.sequence, entry_hash=head.entry_hash, signed_at=finalised_at
    )
    anchor.full_clean()
    anchor.save()
    locked.status = BoardReview.Status.FINAL
    locked.finalised_by = user
    locked.finalised_at = finalised_at
    locked.trigger_log_anchor = anchor
    saved_by(locked, user=user, reason="review_finalise")
    locked.full_clean()
    locked.save()
    review.status, review.finalised_by, review.finalised_at, review.trigger_log_anchor = (
        locked.status,
        locked.finalised_by,
        locked.finalised_at,
        anchor,
    )
    return locked


@transaction.atomic
def risk_accept(
    *,
    review: BoardReview,
    risk: Risk,
    user,
    rationale: str,
    expires_on: datetime.date,
) -> RiskAcceptance:
    """Record at a (draft) review the board's acceptance of a risk whose response is `accept`,
    until `expires_on`; after that the risk is back before the board."""
    _board_only(user, "risks.add_riskacceptance", "record a risk acceptance")
    locked = _review_locked(review)
    _refuse_final(locked, "take new acceptances")
    risk = Risk.objects.get(pk=risk.pk)
    if risk.response != Risk.Response.ACCEPT:
        raise ValidationError(
            f"{risk.code}'s response is {risk.get_response_display().lower()}, not accept: "
            "the board accepts only a risk whose response is to accept it. Change the "
            "response first if that is the decision."
        )
    if risk.status == Risk.Status.CLOSED:
        raise ValidationError(f"{risk.code} is closed: there is nothing to accept.")
    if expires_on is not None and expires_on <= timezone.localdate():
        raise ValidationError({"expires_on": "The expiry date must be in the future."})
    acceptance = RiskAcceptance(
        risk=risk,
        review=locked,
        accepted_by=user,
        accepted_on=locked.meeting_date,
        rationale=(rationale or "").strip(),
        expires_on=expires_on,
    )
    saved_by(acceptance, user=user, reason=f"risk_accept: {acceptance.rationale}")
    acceptance.full_clean()
    acceptance.save()
    return acceptance


# --- Baseline history for records that arrived without a save -------------------------------


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def history_baseline_all(*, reason: str) -> dict[str, int]:
    """A dated "created" history row for every tracked record without one (the seed, the
    generator, a restore): the register `as_of` any later day then finds it, and its first
    edit lists only what changed. Idempotent. A risk began at its first assessment."""
    first_assessed = dict(
        Assessment.objects.order_by()
        .values("risk_id")
        .annotate(first=Min("assessed_at"))
        .values_list("risk_id", "first")
    )
    plan_start = _start_of(PROGRAMME_START)
    began = {
        Risk: lambda r: min(filter(None, [first_assessed.get(r.pk), r.created_at]), default=None),
        MitigationAction: lambda m: m.created_at,
        Indicator: lambda i: getattr(i, "created_at", None) or plan_start,
        IndicatorBreach: lambda b: b.detected_at,
        BoardReview: lambda b: b.created_at,
        RiskAcceptance: lambda a: _start_of(a.accepted_on),
        KeyAction: lambda k: plan_start,
        Metric: lambda m: plan_start,
        MetricReading: lambda r: r.recorded_at or _start_of(r.observed_on),
    }
    return {
        model._meta.label: history_baseline(model, began=when, reason=reason)
        for model, when in began.items()
    }
