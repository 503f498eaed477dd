"""The register: the rating scale as data, risks, their assessments and mitigation actions."""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from common.dates import sane_date
from common.text import MultiLineField, SingleLineField
from common.versions import bump_version
from risks import rules
from roadmap.models import Agency, KeyAction, Phase

# The matrix is 5 x 5: levels are 1..5 on both axes; their labels and definitions are data.
MIN_LEVEL, MAX_LEVEL = 1, 5
MAX_SCORE = MAX_LEVEL * MAX_LEVEL


def _level_in_scale(field: str, *, nullable: bool = False) -> Q:
    in_scale = Q(**{f"{field}__gte": MIN_LEVEL}) & Q(**{f"{field}__lte": MAX_LEVEL})
    return (Q(**{f"{field}__isnull": True}) | in_scale) if nullable else in_scale


def level_field(*, nullable: bool = False, help_text: str = "") -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        null=nullable,
        blank=nullable,
        help_text=help_text,
        validators=[MinValueValidator(MIN_LEVEL), MaxValueValidator(MAX_LEVEL)],
    )


class Axis(models.TextChoices):
    LIKELIHOOD = "likelihood", "Likelihood"
    IMPACT = "impact", "Impact"


class Confidence(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RatingLevel(models.Model):
    axis = SingleLineField(max_length=10, choices=Axis.choices)
    level = level_field()
    label = SingleLineField(max_length=30)
    definition = MultiLineField()

    class Meta:
        ordering = ["axis", "level"]
        constraints = [
            models.UniqueConstraint(fields=["axis", "level"], name="ratinglevel_unique_level"),
            models.UniqueConstraint(fields=["axis", "label"], name="ratinglevel_unique_label"),
            models.CheckConstraint(condition=_level_in_scale("level"), name="ratinglevel_in_scale"),
        ]

    def __str__(self) -> str:
        return f"{self.get_axis_display()} {self.level}: {self.label}"


class RatingBand(models.Model):
    name = SingleLineField(max_length=30, unique=True)
    min_score = models.PositiveSmallIntegerField()
    max_score = models.PositiveSmallIntegerField()
    colour = SingleLineField(max_length=7, help_text="Hex colour, e.g. #d73027.")
    text_colour = SingleLineField(max_length=7, default="#000000")
    review_frequency_days = models.PositiveSmallIntegerField(
        help_text="How often a risk in this band must be reviewed."
    )

    class Meta:
        ordering = ["min_score"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_score__gte=1)
                & Q(max_score__lte=MAX_SCORE)
                & Q(max_score__gte=F("min_score")),
                name="ratingband_scores_in_scale",
            ),
            models.CheckConstraint(
                condition=Q(review_frequency_days__gte=1), name="ratingband_review_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.min_score}-{self.max_score})"


class RiskAppetite(models.Model):
    """The board's stated tolerance: risks scoring above max_score need its attention."""

    statement = MultiLineField()
    max_score = models.PositiveSmallIntegerField()
    effective_from = models.DateField(unique=True, validators=[sane_date])
    approved_by = SingleLineField(max_length=200)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_score__gte=1) & Q(max_score__lte=MAX_SCORE),
                name="riskappetite_score_in_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"Appetite up to {self.max_score} from {self.effective_from}"


class RiskFacts:
    """What a risk's fields imply, for the live row and for its historical rows alike (the
    register `as_of` a past day is read from the history: see risks/selectors.py)."""

    @property
    def target_score(self) -> int | None:
        return rules.score(self.target_likelihood, self.target_impact)

    @property
    def inherent_score(self) -> int | None:
        return rules.score(self.inherent_likelihood, self.inherent_impact)

    def _linked(self, name: str, target: str) -> list:
        if hasattr(self, "history_id"):
            # A historical row's links are the snapshot taken with it (through rows).
            rows = getattr(self, f"historicalrisk_{name}_set").all()
            return sorted((getattr(row, target) for row in rows), key=lambda item: item.pk)
        return getattr(self, name).all()

    @property
    def supporting_agency_list(self) -> list[Agency]:
        return list(self._linked("supporting_agencies", "agency"))

    @property
    def phase_list(self) -> list[Phase]:
        return list(self._linked("phases", "phase"))

    @property
    def key_action_list(self) -> list[KeyAction]:
        return list(self._linked("key_actions", "keyaction"))


class Risk(RiskFacts, models.Model):
    class Category(models.TextChoices):
        POLITICAL = "political", "Political and legislative"
        DIPLOMATIC = "diplomatic", "Diplomatic"
        SECURITY = "security", "Security"
        PROGRAMMATIC = "programmatic", "Programmatic"
        FINANCIAL = "financial", "Financial"
        OPERATIONAL = "operational", "Operational"
        LEGAL = "legal", "Legal"

    class Response(models.TextChoices):
        ACCEPT = "accept", "Accept"
        AVOID = "avoid", "Avoid"
        REDUCE = "reduce", "Reduce"
        SHARE = "share", "Share"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MONITORING = "monitoring", "Monitoring"
        CONTINGENCY_ACTIVE = "contingency_active", "Contingency active"
        CLOSED = "closed", "Closed"

    code = SingleLineField(max_length=20, unique=True, validators=[rules.code_validator])
    title = SingleLineField(max_length=200)
    statement = MultiLineField(help_text="Cause, event and consequence.")
    category = SingleLineField(max_length=20, choices=Category.choices, db_index=True)
    owner = SingleLineField(max_length=200, help_text="The named person accountable.")
    owner_email = models.EmailField(
        blank=True,
        help_text="Where review reminders go; empty: the owner agency's contact addresses.",
    )
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="owned_risks")
    supporting_agencies = models.ManyToManyField(Agency, blank=True, related_name="supported_risks")
    phases = models.ManyToManyField(Phase, blank=True, related_name="risks")
    key_actions = models.ManyToManyField(KeyAction, blank=True, related_name="risks")

    inherent_likelihood = level_field(nullable=True, help_text="Before any response.")
    inherent_impact = level_field(nullable=True, help_text="Before any response.")
    likelihood = level_field(help_text="Current likelihood.")
    impact = level_field(help_text="Current impact.")
    score = models.PositiveSmallIntegerField(editable=False)
    target_likelihood = level_field(help_text="Where the response should bring it.")
    target_impact = level_field(help_text="Where the response should bring it.")
    confidence = SingleLineField(
        max_length=10, choices=Confidence.choices, default=Confidence.MEDIUM
    )
    last_assessed_at = models.DateTimeField(null=True, blank=True, editable=False)

    response = SingleLineField(max_length=10, choices=Response.choices, default=Response.REDUCE)
    mitigation_strategy = MultiLineField()
    contingency_plan = MultiLineField()
    trigger_conditions = MultiLineField(blank=True)

    status = SingleLineField(
        max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    review_frequency_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: the rating band's frequency."
    )
    next_review_due = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        editable=False,
        help_text="Derived from the last review and the frequency (risks/rules.py).",
    )
    closure_reason = MultiLineField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every save: a stale edit is refused."
    )
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        m2m_fields=[supporting_agencies, phases, key_actions],
        bases=[RiskFacts, models.Model],
    )

    class Meta:
        ordering = ["-score", "code"]
        indexes = [
            models.Index(fields=["-score", "code"], name="risk_score_order"),
            models.Index(fields=["likelihood", "impact"], name="risk_cell"),
            models.Index(fields=["target_likelihood", "target_impact"], name="risk_target_cell"),
            # The heatmap's grid of open risks: counts and leading codes per cell from the index.
            models.Index(
                fields=["likelihood", "impact", "-score", "code"],
                condition=~Q(status="closed"),
                name="risk_cell_open",
            ),
            models.Index(
                fields=["target_likelihood", "target_impact", "-score", "code"],
                condition=~Q(status="closed"),
                name="risk_target_cell_open",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=_level_in_scale("likelihood"), name="risk_likelihood_in_scale"
            ),
            models.CheckConstraint(
                condition=_level_in_scale("impact"), name="risk_impact_in_scale"
            ),
            models.CheckConstraint(
                condition=_level_in_scale("target_likelihood"),
                name="risk_target_likelihood_in_scale",
            ),
            models.CheckConstraint(
                condition=_level_in_scale("target_impact"), name="risk_target_impact_in_scale"
            ),
            models.CheckConstraint(
                condition=_level_in_scale("inherent_likelihood", nullable=True),
                name="risk_inherent_likelihood_in_scale",
            ),
            models.CheckConstraint(
                condition=_level_in_scale("inherent_impact", nullable=True),
                name="risk_inherent_impact_in_scale",
            ),
            models.CheckConstraint(
                condition=Q(inherent_likelihood__isnull=True, inherent_impact__isnull=True)
                | Q(inherent_likelihood__isnull=False, inherent_impact__isnull=False),
                name="risk_inherent_both_or_neither",
                violation_error_message="Give both inherent likelihood and impact, or neither.",
            ),
            models.CheckConstraint(
                condition=Q(score=rules.score_expression()), name="risk_score_is_product"
            ),
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (Q(closed_at__isnull=False) & ~Q(closure_reason="")),
                name="risk_closed_has_reason",
                violation_error_message="A closed risk needs a closure reason and date.",
            ),
            models.CheckConstraint(
                condition=Q(review_frequency_days__isnull=True) | Q(review_frequency_days__gte=1),
                name="risk_review_frequency_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        # Derived, never typed: the database constraint checks the same product.
        if (product := rules.score(self.likelihood, self.impact)) is not None:
            self.score = product
        bump_version(self)
        super().save(*args, **kwargs)


class Assessment(models.Model):
    """One rating of a risk. The risk's current rating is its latest assessment."""

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="assessments")
    assessed_at = models.DateTimeField(db_index=True, validators=[sane_date])
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    likelihood = level_field()
    impact = level_field()
    confidence = SingleLineField(max_length=10, choices=Confidence.choices)
    rationale = MultiLineField()

    class Meta:
        ordering = ["-assessed_at", "-id"]
        get_latest_by = ["assessed_at", "id"]
        # The latest assessment per risk (current rating, ?as_of=) is one index probe.
        indexes = [
            models.Index(fields=["risk", "-assessed_at", "-id"], name="assessment_risk_latest")
        ]
        constraints = [
            models.CheckConstraint(
                condition=_level_in_scale("likelihood"), name="assessment_likelihood_in_scale"
            ),
            models.CheckConstraint(
                condition=_level_in_scale("impact"), name="assessment_impact_in_scale"
            ),
            models.CheckConstraint(
                condition=~Q(rationale=""),
                name="assessment_has_rationale",
                violation_error_message="Give the rationale for this rating.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.risk.code} {self.likelihood}x{self.impact} at {self.assessed_at:%Y-%m-%d}"

    @property
    def score(self) -> int | None:
        return rules.score(self.likelihood, self.impact)


class MitigationAction(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        BLOCKED = "blocked", "Blocked"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="mitigations")
    title = SingleLineField(max_length=300)
    description = MultiLineField(blank=True)
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="mitigations")
    key_action = models.ForeignKey(
        KeyAction, null=True, blank=True, on_delete=models.PROTECT, related_name="mitigations"
    )
    due_date = models.DateField(db_index=True, validators=[sane_date])
    status = SingleLineField(
        max_length=20, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    percent_complete = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_complete__gte=0) & Q(percent_complete__lte=100),
                name="mitigation_percent_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(percent_complete=100),
                name="mitigation_done_is_complete",
                violation_error_message="A mitigation marked done must be 100%% complete.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.risk.code}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        bump_version(self)
        super().save(*args, **kwargs)


# --- Trigger log: contingencies invoked, updated and stood down ------------------------

GENESIS_HASH = "0" * 64
hex_digest = RegexValidator(r"^[0-9a-f]{64}$", "A SHA-256 hex digest (64 lowercase hex digits).")


class AppendOnlyError(Exception):
    """A saved trigger entry was about to be changed or deleted."""


class TriggerEntryQuerySet(models.QuerySet):
    # Bulk writes skip save() and delete(); refuse them here too. The database trigger is the
    # real guard (see migration 0005); these only fail early and clearly in Python.
    def update(self, **kwargs):
        raise AppendOnlyError("The trigger log is append-only: entries cannot be updated.")

    def delete(self):
        raise AppendOnlyError("The trigger log is append-only: entries cannot be deleted.")


class TriggerEntry(models.Model):
    """One link of the hash chain. Written only by risks.services.contingency_*; on SQLite a
    migration that rebuilds this table drops its append-only triggers: recreate them there
    (risks.migrations.0011_trigger_log_signed_heads.protect). The hash covers the risk code and
    username as stored here, so a later rename of either never breaks it."""

    class Kind(models.TextChoices):
        INVOKED = "invoked", "Contingency invoked"
        UPDATE = "update", "Update"
        STOOD_DOWN = "stood_down", "Stood down"

    sequence = models.PositiveBigIntegerField(
        unique=True, editable=False, help_text="Position in the chain: 1, 2, 3... without gaps."
    )
    kind = SingleLineField(max_length=10, choices=Kind.choices)
    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="trigger_entries")
    risk_code = SingleLineField(
        max_length=20, editable=False, help_text="The risk's code when the entry was recorded."
    )
    recorded_at = models.DateTimeField(editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trigger_entries"
    )
    recorded_by_username = SingleLineField(
        max_length=150, editable=False, help_text="The recorder's username when recorded."
    )
    reason = MultiLineField()
    evidence = MultiLineField(blank=True)
    actions_taken = MultiLineField(blank=True)
    authorised_by = SingleLineField(max_length=200, blank=True)
    previous_status = SingleLineField(
        max_length=20,
        choices=Risk.Status.choices,
        help_text="The risk's status before this entry; standing down restores the invoked one.",
    )
    prev_hash = SingleLineField(max_length=64, unique=True, editable=False, validators=[hex_digest])
    entry_hash = SingleLineField(
        max_length=64, unique=True, editable=False, validators=[hex_digest]
    )

    objects = TriggerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        verbose_name_plural = "trigger entries"
        indexes = [models.Index(fields=["risk", "-sequence"], name="triggerentry_risk_latest")]
        constraints = [
            models.CheckConstraint(condition=Q(sequence__gte=1), name="triggerentry_sequence_1"),
            # Only the first link follows the genesis hash (prev_hash is unique as well).
            models.CheckConstraint(
                condition=Q(sequence=1, prev_hash=GENESIS_HASH)
                | (Q(sequence__gt=1) & ~Q(prev_hash=GENESIS_HASH)),
                name="triggerentry_genesis_first",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="triggerentry_has_reason",
                violation_error_message="Give the reason for this entry.",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.risk.code} {self.get_kind_display()}"

    def save(self, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"Trigger entry #{self.sequence} is saved and cannot change.")
        kwargs["force_insert"] = True
        super().save(**kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"Trigger entry #{self.sequence} cannot be deleted.")


class TriggerCheckpointQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Signed heads are append-only: they cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Signed heads are append-only: they cannot be deleted.")


class TriggerCheckpoint(models.Model):
    """A signed head: the chain's (sequence, hash) at a moment, signed with the key held
    outside the database (common.signing). One is made for every appended entry, and one for
    every finalised board review (its anchor). Append-only, like the entries."""

    class Kind(models.TextChoices):
        APPEND = "append", "Entry appended"
        ANCHOR = "anchor", "Board review anchor"

    kind = SingleLineField(max_length=10, choices=Kind.choices, editable=False)
    entry = models.OneToOneField(
        TriggerEntry,
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="checkpoint",
        help_text="The entry whose appending made this head (none for a review's anchor).",
    )
    sequence = models.PositiveBigIntegerField(editable=False, help_text="0: an empty log.")
    entry_hash = SingleLineField(max_length=64, editable=False, validators=[hex_digest])
    signed_at = models.DateTimeField(editable=False)
    origin = SingleLineField(max_length=200, editable=False)
    key_id = SingleLineField(max_length=16, editable=False)
    signature = SingleLineField(max_length=100, editable=False)

    objects = TriggerCheckpointQuerySet.as_manager()

    class Meta:
        ordering = ["sequence", "signed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="append", entry__isnull=False)
                | Q(kind="anchor", entry__isnull=True),
                name="triggercheckpoint_append_has_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"Signed head #{self.sequence} at {self.signed_at:%Y-%m-%d %H:%M:%S}"

    def save(self, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("A signed head is saved and cannot change.")
        kwargs["force_insert"] = True
        super().save(**kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("A signed head cannot be deleted.")


class TriggerChainHead(models.Model):
    """The chain's tail in one row. Writers lock this row, so entries are chained one at a
    time; verification compares it with the last entry, so a removed tail shows too. A
    database trigger lets it name only the last entry, and only once that entry's head is
    signed (migration 0011_trigger_log_signed_heads)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    sequence = models.PositiveBigIntegerField(default=0)
    entry_hash = SingleLineField(max_length=64, default=GENESIS_HASH, validators=[hex_digest])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="triggerchainhead_one_row")]

    def __str__(self) -> str:
        return f"Chain head #{self.sequence}"


# --- Key risk indicators -------------------------------------------------------------


class Indicator(models.Model):
    """A key risk indicator: a reading of `metric` that crosses `threshold` flags `risk`."""

    class Comparison(models.TextChoices):
        ABOVE = "above", "Above"
        AT_OR_ABOVE = "at_or_above", "At or above"
        BELOW = "below", "Below"
        AT_OR_BELOW = "at_or_below", "At or below"

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="indicators")
    metric = models.ForeignKey(
        "roadmap.Metric", on_delete=models.PROTECT, related_name="risk_indicators"
    )
    comparison = SingleLineField(max_length=12, choices=Comparison.choices)
    threshold = models.DecimalField(max_digits=14, decimal_places=2)
    description = MultiLineField(blank=True)
    applies_from = models.DateField(
        null=True,
        blank=True,
        help_text="Readings observed before this day are not compared with the threshold "
        "(e.g. a Year 5 target applies from 2030-01-01). Empty: every reading is.",
    )
    active = models.BooleanField(default=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["risk__code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk", "metric", "comparison", "threshold"], name="indicator_unique"
            ),
        ]

    def __str__(self) -> str:
        comparison = self.get_comparison_display().lower()
        return f"{self.risk.code}: {self.metric} {comparison} {self.threshold}"

    def applies_on(self, day) -> bool:
        return self.applies_from is None or day >= self.applies_from

    def crossed_by(self, value) -> bool:
        return {
            self.Comparison.ABOVE: value > self.threshold,
            self.Comparison.AT_OR_ABOVE: value >= self.threshold,
            self.Comparison.BELOW: value < self.threshold,
            self.Comparison.AT_OR_BELOW: value <= self.threshold,
        }[self.comparison]


class IndicatorBreach(models.Model):
    """A reading that crossed an indicator: the risk is flagged for trigger review until Staff
    invoke its contingency or dismiss the breach with a reason."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        CONTINGENCY_INVOKED = "contingency_invoked", "Contingency invoked"

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="breaches")
    reading = models.ForeignKey(
        "roadmap.MetricReading", on_delete=models.PROTECT, related_name="indicator_breaches"
    )
    detected_at = models.DateTimeField(default=timezone.now)
    status = SingleLineField(
        max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = MultiLineField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            # One reading crosses one indicator once: a dismissed breach does not come back.
            models.UniqueConstraint(
                fields=["indicator", "reading"], name="indicatorbreach_one_per_reading"
            ),
            models.CheckConstraint(
                condition=~Q(status="dismissed") | ~Q(resolution_reason=""),
                name="indicatorbreach_dismissed_has_reason",
                violation_error_message="Say why the breach is dismissed.",
            ),
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True)
                | (~Q(status="open") & Q(resolved_at__isnull=False)),
                name="indicatorbreach_resolved_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} ({self.reading.value} on {self.reading.observed_on})"


# --- Quarterly board reviews -------------------------------------------------------------

QUARTER_PATTERN = r"^\d{4}-Q[1-4]$"


def quarter_start(quarter: str) -> datetime.date | None:
    """The first day of a quarter named YYYY-Qn; None when the name is not one."""
    if not re.match(QUARTER_PATTERN, quarter or ""):
        return None
    return datetime.date(int(quarter[:4]), 3 * int(quarter[-1]) - 2, 1)


class BoardReview(models.Model):
    """A quarterly meeting of the oversight board; finalising freezes a snapshot."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINAL = "final", "Final"

    quarter = SingleLineField(
        max_length=7,
        unique=True,
        validators=[RegexValidator(QUARTER_PATTERN, "Give the quarter as YYYY-Qn, e.g. 2027-Q1.")],
    )
    meeting_date = models.DateField(validators=[sane_date])
    attendees = MultiLineField(help_text="One name and agency per line.")
    decisions = MultiLineField(blank=True)
    status = SingleLineField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finalised_at = models.DateTimeField(null=True, blank=True, db_index=True)
    trigger_log_anchor = models.OneToOneField(
        TriggerCheckpoint,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="review",
        help_text="The trigger log's signed head when the review was finalised.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-quarter"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", finalised_at__isnull=True)
                | Q(status="final", finalised_at__isnull=False),
                name="boardreview_final_has_date",
                violation_error_message="A final review has a finalisation date; a draft none.",
            ),
        ]

    def __str__(self) -> str:
        return f"Board review {self.quarter}"

    def clean(self) -> None:
        # The board reviews a quarter during it or after it, never before it has begun.
        start = quarter_start(self.quarter)
        if start and self.meeting_date and self.meeting_date < start:
            raise ValidationError(
                {
                    "meeting_date": f"A {self.quarter} review meets on or after "
                    f"{start.day} {start:%b %Y}, the first day of that quarter."
                }
            )

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL


class ReviewSnapshot(models.Model):
    """One open risk's rating and status as they stood when a review was finalised."""

    review = models.ForeignKey(BoardReview, on_delete=models.PROTECT, related_name="snapshots")
    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="snapshots")
    likelihood = level_field()
    impact = level_field()
    score = models.PositiveSmallIntegerField()
    target_likelihood = level_field()
    target_impact = level_field()
    status = SingleLineField(max_length=20, choices=Risk.Status.choices)
    confidence = SingleLineField(max_length=10, choices=Confidence.choices)
    next_review_due = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["review", "-score", "risk__code"]
        constraints = [
            models.UniqueConstraint(fields=["review", "risk"], name="snapshot_one_per_risk"),
            models.CheckConstraint(
                condition=_level_in_scale("likelihood") & _level_in_scale("impact"),
                name="snapshot_levels_in_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review.quarter} {self.risk.code} {self.likelihood}x{self.impact}"


class RiskAcceptance(models.Model):
    """The board's acceptance of a risk whose response is `accept`, until it expires."""

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="acceptances")
    review = models.ForeignKey(BoardReview, on_delete=models.PROTECT, related_name="acceptances")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    accepted_on = models.DateField(validators=[sane_date])
    rationale = MultiLineField()
    expires_on = models.DateField(db_index=True, validators=[sane_date])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-accepted_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=F("accepted_on")),
                name="acceptance_expires_after_acceptance",
                violation_error_message="The expiry date must be after the acceptance date.",
            ),
            models.CheckConstraint(
                condition=~Q(rationale=""),
                name="acceptance_has_rationale",
                violation_error_message="Give the board's rationale for accepting the risk.",
            ),
            models.UniqueConstraint(fields=["risk", "review"], name="acceptance_one_per_review"),
        ]

    def __str__(self) -> str:
        return f"{self.risk.code} accepted until {self.expires_on}"


class NotificationFailure(models.Model):
    """A trigger log entry whose email was not delivered after every retry (or had nobody to
    go to). The board's dashboard lists these, so a silent mail failure cannot keep the Board
    from learning of a contingency."""

    entry = models.OneToOneField(
        TriggerEntry, on_delete=models.PROTECT, related_name="notification_failure"
    )
    failed_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveSmallIntegerField()
    error = MultiLineField()
    recipients = MultiLineField(blank=True, help_text="Who should have been told, one a line.")

    class Meta:
        ordering = ["-failed_at", "-id"]

    def __str__(self) -> str:
        return f"Notification of trigger log entry #{self.entry.sequence} not delivered"


# --- Reminders: what `send_reminders` sent, or failed to send ---------------------------------


class Reminder(models.Model):
    """One item of one reminder email to one recipient on one day: a sent row keeps the
    command idempotent per day and counts "reminded N times since due"; a failed row keeps its
    error, shown on the dashboard and in the admin, so a failure is never silent."""

    class Kind(models.TextChoices):
        REVIEW_DUE = "review_due", "Review due soon"
        REVIEW_OVERDUE = "review_overdue", "Review overdue"
        MITIGATION_OVERDUE = "mitigation_overdue", "Mitigation action past due"
        ACCEPTANCE_EXPIRING = "acceptance_expiring", "Acceptance expiring"
        BOARD_SUMMARY = "board_summary", "Weekly summary to the board secretary"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    recipient = SingleLineField(
        max_length=254, blank=True, help_text="Empty: nobody to send it to (a failure)."
    )
    kind = SingleLineField(max_length=20, choices=Kind.choices)
    item = SingleLineField(
        max_length=40, help_text="What it is about, e.g. risk:12, mitigation:3, week:2026-W49."
    )
    risk = models.ForeignKey(
        Risk, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    mitigation = models.ForeignKey(
        MitigationAction, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    acceptance = models.ForeignKey(
        RiskAcceptance, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    due_on = models.DateField(
        null=True, blank=True, help_text="The review, due or expiry date it reminded of."
    )
    sent_on = models.DateField(db_index=True, help_text="The day of the run.")
    sent_at = models.DateTimeField(default=timezone.now)
    status = SingleLineField(max_length=10, choices=Status.choices, db_index=True)
    error = MultiLineField(blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["risk", "kind", "due_on"], name="reminder_risk_due")]
        constraints = [
            # Idempotent per day: one sent reminder of an item to a recipient a day.
            models.UniqueConstraint(
                fields=["recipient", "kind", "item", "sent_on"],
                condition=Q(status="sent"),
                name="reminder_sent_once_a_day",
            ),
            models.CheckConstraint(
                condition=Q(status="sent") | ~Q(error=""),
                name="reminder_failure_has_error",
                violation_error_message="A failed reminder records its error.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient or 'nobody'} on {self.sent_on}"
