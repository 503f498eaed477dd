"""Writes to the register. The admin, the API and commands all change risks through here."""

from __future__ import annotations

import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import timezone

from common.bulk import rows_update
from common.calendar import PROGRAMME_START
from common.history import history_baseline, history_bulk_record, saved_by
from common.integrity import unique_or_invalid
from common.services import model_update
from common.versions import StaleEdit, StateConflict, bump_version, version_check  # noqa: F401
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
from risks.selectors import Scale, review_frequency_days
from risks.signals import register_changed
from risks.trigger_chain import checkpoint_sign, entry_digest
from roadmap.models import KeyAction, Metric, MetricReading


def _next_review(
    *, risk: Risk, on: datetime.date | None, scale: Scale | None = None
) -> datetime.date | None:
    frequency = review_frequency_days(risk=risk, scale=scale)
    return rules.next_review_due(reviewed_on=on, frequency_days=frequency)


def _assessment_new(
    *,
    risk: Risk,
    likelihood: int,
    impact: int,
    rationale: str,
    user,
    confidence: str,
    assessed_at: datetime.datetime | None,
) -> Assessment:
    """A re-rating's rules before anything is written (risk_assess and RiskBatch)."""
    if risk.status == Risk.Status.CLOSED:
        raise ValidationError("A closed risk cannot be re-assessed.")
    return Assessment(
        risk=risk,
        likelihood=likelihood,
        impact=impact,
        rationale=(rationale or "").strip(),
        confidence=confidence,
        assessed_by=user,
        assessed_at=assessed_at or timezone.now(),
    )


RATING_WRITES = ("likelihood", "impact", "score", "confidence", "last_assessed_at")


def _rating_apply(*, risk: Risk, assessment: Assessment, scale: Scale | None = None) -> None:
    """Make `assessment` the risk's current rating, in memory; its next review follows."""
    risk.likelihood = assessment.likelihood
    risk.impact = assessment.impact
    risk.score = rules.score(assessment.likelihood, assessment.impact)
    risk.confidence = assessment.confidence
    risk.last_assessed_at = assessment.assessed_at
    risk.next_review_due = _next_review(risk=risk, on=assessment.assessed_at.date(), scale=scale)


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
    version_check(risk, expected_version, locked=True)
    assessment = _assessment_new(
        risk=risk,
        likelihood=likelihood,
        impact=impact,
        rationale=rationale,
        user=user,
        confidence=confidence,
        assessed_at=assessed_at,
    )
    assessment.full_clean()
    assessment.save()

    _rating_apply(risk=risk, assessment=assessment)
    saved_by(
        risk,
        user=user,
        reason=change_reason or f"Assessment #{assessment.pk}: {assessment.rationale}",
    )
    risk.full_clean()
    written = [*RATING_WRITES, "next_review_due", "version", "updated_at"]
    risk.save(update_fields=written)
    for field in written:
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
    _update_checked(risk=risk, fields=fields)
    return model_update(
        instance=risk, data=fields, user=user, m2m=M2M_FIELDS, reason=change_reason or "risk_update"
    )


def _update_checked(*, risk: Risk, fields: dict, scale: Scale | None = None) -> None:
    """risk_update's rules (and RiskBatch's): refuse what only a workflow or an assessment
    may change; a new review frequency adds the next review date it moves to `fields`."""
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
        fields["next_review_due"] = _next_review(risk=risk, on=reviewed, scale=scale)


# --- Many risks at once (the import) --------------------------------------------------------


class RiskBatch:
    """Risks created, updated and re-assessed in memory, then written together by
    `risk_batch_save`: a few statements for hundreds of rows, where the services above take
    a few dozen per row. Each step applies the same rules as its service (the helpers above),
    raising the same ValidationError before anything is added. Field checks run in Python;
    the foreign keys given are ids the caller read from their tables, and the check and
    unique constraints are the database's: a row it refuses fails the whole
    `risk_batch_save`, whose caller redoes the rows through the services one by one to
    name it. One history row per risk, with `change_reason` and the user."""

    def __init__(self, *, user, change_reason: str, scale: Scale):
        self.user, self.change_reason, self.scale = user, change_reason, scale
        self.new: list[Risk] = []
        self.changed: dict[int, Risk] = {}  # pk -> the locked instance, changed in memory
        self.fields: set[str] = set()  # the fields any changed risk has new values for
        self.links: dict[tuple[int | str, str], list[int]] = {}  # (pk or code, link) -> ids
        self.assessments: list[Assessment] = []
        self._checked: set[int] = set()
        self._new_codes: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.new or self.changed)

    @staticmethod
    def lock(codes: list[str]) -> dict[str, Risk]:
        """The risks with these codes, read under lock (in pk order, so two imports of
        overlapping files wait for each other rather than deadlock)."""
        rows = Risk.objects.select_for_update().filter(code__in=codes).order_by("pk")
        return {risk.code: risk for risk in rows}

    def _version(self, risk: Risk, expected_version: int) -> None:
        if risk.pk not in self._checked:
            version_check(risk, expected_version, locked=True)  # `risk` came from lock()
            self._checked.add(risk.pk)

    def create(self, *, code: str, rationale: str, confidence: str, **fields) -> Risk:
        """risk_create: a new risk with its first assessment from its rating. The caller
        found no risk with `code` (a code saved meanwhile fails the unique index)."""
        if code in self._new_codes:
            raise ValidationError({"code": "Risk with this Code already exists."})
        links = {name: fields.pop(name) for name in M2M_FIELDS if name in fields}
        fields.pop("next_review_due", None)  # derived from the first assessment, never typed
        risk = Risk(code=code, **fields, confidence=confidence)
        risk.score = rules.score(risk.likelihood, risk.impact) or 0
        _clean_fields(risk, exclude=["score"])
        assessment = _assessment_new(
            risk=risk,
            likelihood=risk.likelihood,
            impact=risk.impact,
            rationale=rationale,
            user=self.user,
            confidence=confidence,
            assessed_at=None,
        )
        _clean_fields(assessment, exclude=["risk"])  # the risk is the one being created
        _rating_apply(risk=risk, assessment=assessment, scale=self.scale)
        saved_by(risk, user=self.user, reason=self.change_reason)
        self.new.append(risk)
        self._new_codes.add(code)
        self.assessments.append(assessment)
        for name, ids in links.items():
            self.links[(code, name)] = list(ids)
        return risk

    def update(self, *, risk: Risk, expected_version: int, **fields) -> None:
        """risk_update on `risk` (from `lock`): descriptive fields and links."""
        self._version(risk, expected_version)
        _update_checked(risk=risk, fields=fields, scale=self.scale)
        links = {name: fields.pop(name) for name in M2M_FIELDS if name in fields}
        for name in fields:
            if not hasattr(risk, name):
                raise AttributeError(f"Risk has no field {name!r}")
        before = {name: getattr(risk, name) for name in fields}
        for name, value in fields.items():
            setattr(risk, name, value)
        try:
            _clean_fields(risk, only=fields)
        except ValidationError:
            for name, value in before.items():
                setattr(risk, name, value)
            raise
        self._changed(risk, fields)
        for name, ids in links.items():
            self.links[(risk.pk, name)] = list(ids)

    def assess(
        self,
        *,
        risk: Risk,
        expected_version: int,
        likelihood: int,
        impact: int,
        confidence: str,
        rationale: str,
    ) -> Assessment:
        """risk_assess on `risk` (from `lock`)."""
        self._version(risk, expected_version)
        assessment = _assessment_new(
            risk=risk,
            likelihood=likelihood,
            impact=impact,
            rationale=rationale,
            user=self.user,
            confidence=confidence,
            assessed_at=None,
        )
        _clean_fields(assessment, exclude=["risk"])  # read under lock in lock()
        _rating_apply(risk=risk, assessment=assessment, scale=self.scale)
        self._changed(risk, [*RATING_WRITES, "next_review_due"])
        self.assessments.append(assessment)
        return assessment

    def _changed(self, risk: Risk, fields) -> None:
        self.fields.update(fields)
        saved_by(risk, user=self.user, reason=self.change_reason)
        self.changed[risk.pk] = risk


def _clean_fields(instance, *, exclude=(), only=None) -> None:
    """Field checks without a query: a foreign key given as an id is left to the database
    (the caller read it from its table), as are the constraints (see RiskBatch)."""
    skip = set(exclude)
    for field in instance._meta.concrete_fields:
        unnamed = only is not None and field.name not in only and field.attname not in only
        given_id = field.is_relation and getattr(instance, field.attname) is not None
        if unnamed or given_id:
            skip.add(field.name)
    instance.clean_fields(exclude=skip)
    instance.clean()


@transaction.atomic
def risk_batch_save(*, batch: RiskBatch) -> None:
    """Write what `batch` holds: new risks with their links and first assessments, changed
    risks (version raised, as save() does) with their new links and assessments, and one
    history row for each. All or nothing: its own savepoint. Bulk writes send no signal, so it
    moves the register's version itself: no cached heatmap or page outlives the import."""
    register_changed(scale=False)
    now = timezone.now()
    Risk.objects.bulk_create(batch.new, batch_size=BULK)
    changed = list(batch.changed.values())
    for risk in changed:
        risk.score = rules.score(risk.likelihood, risk.impact)
        bump_version(risk)
        risk.updated_at = now
    rows_update(changed, sorted(batch.fields | {"score", "version", "updated_at"}))
    by_code = {risk.code: risk.pk for risk in batch.new}
    for name in M2M_FIELDS:
        wanted = {
            by_code.get(key, key): set(ids)
            for (key, link), ids in batch.links.items()
            if link == name
        }
        if wanted:
            _links_set(name, wanted)
    Assessment.objects.bulk_create(batch.assessments, batch_size=BULK)
    history_bulk_record(Risk, batch.new, update=False, date=now)
    history_bulk_record(Risk, changed, update=True, date=now)


BULK = 500


def _links_set(name: str, wanted: dict[int, set[int]]) -> None:
    """Each risk's links of one kind set to `wanted`, as `.set()` would: only the
    difference is deleted and added."""
    field = Risk._meta.get_field(name)
    through = field.remote_field.through
    target = f"{field.m2m_reverse_field_name()}_id"
    current: dict[int, set[int]] = {}
    rows = through.objects.filter(risk_id__in=list(wanted)).values_list("pk", "risk_id", target)
    gone = []
    for pk, risk_id, other in rows:
        current.setdefault(risk_id, set()).add(other)
        if other not in wanted[risk_id]:
            gone.append(pk)
    if gone:
        through.objects.filter(pk__in=gone).delete()
    through.objects.bulk_create(
        [
            through(risk_id=risk_id, **{target: other})
            for risk_id, ids in wanted.items()
            for other in sorted(ids - current.get(risk_id, set()))
        ],
        batch_size=BULK,
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
    # Only the status is checked: a contingency must go into effect even when another field
    # of the row would not pass today's rules (a title with a line break, written before the
    # rule or straight into the database); the next edit of that field is refused as usual.
    risk.full_clean(exclude={f.name for f in risk._meta.concrete_fields} - {"status"})
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
    edit lists only what changed. Idempotent. A risk began at its first assessment (or its
    creation, if earlier); a record with no date of its own at the programme's start."""
    first_assessed = (
        Assessment.objects.filter(risk=OuterRef("pk"))
        .order_by("assessed_at")
        .values("assessed_at")[:1]
    )
    created = F("created_at")
    plan_start = Value(_start_of(PROGRAMME_START), output_field=DateTimeField())
    began = {
        Risk: Least(Coalesce(Subquery(first_assessed), created), created),
        MitigationAction: created,
        Indicator: plan_start,
        IndicatorBreach: F("detected_at"),
        BoardReview: created,
        RiskAcceptance: Cast("accepted_on", DateTimeField()),
        KeyAction: plan_start,
        Metric: plan_start,
        MetricReading: Coalesce(F("recorded_at"), Cast("observed_on", DateTimeField())),
    }
    return {
        model._meta.label: history_baseline(model, began=when, reason=reason)
        for model, when in began.items()
    }
