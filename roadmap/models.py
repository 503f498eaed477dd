"""The plan: agencies, phases and what each phase needs, key actions, success metrics."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from common.calendar import PROGRAMME_MONTHS
from common.dates import sane_date
from common.text import MultiLineField, SingleLineField
from common.versions import bump_version

# The roadmap runs ten years; key-action timelines are month numbers inside that span.


class Agency(models.Model):
    code = models.SlugField(max_length=20, unique=True, allow_unicode=False)
    name = SingleLineField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    contact_emails = MultiLineField(
        blank=True, help_text="One address per line; receives notifications for its risks."
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.code

    @property
    def contacts(self) -> list[str]:
        return [line.strip() for line in self.contact_emails.splitlines() if line.strip()]


class Phase(models.Model):
    number = models.PositiveSmallIntegerField(unique=True)
    name = SingleLineField(max_length=200)
    start_year = models.PositiveSmallIntegerField()
    end_year = models.PositiveSmallIntegerField()
    summary = MultiLineField(blank=True, help_text="What the phase is, from the strategy.")
    expected_outcomes = MultiLineField(blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1), name="phase_number_positive"),
            models.CheckConstraint(
                condition=Q(start_year__gte=1) & Q(end_year__gte=F("start_year")),
                name="phase_years_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"Phase {self.number}: {self.name}"


class PhaseObjective(models.Model):
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="objectives")
    position = models.PositiveSmallIntegerField(default=0)
    text = MultiLineField()

    class Meta:
        ordering = ["phase__number", "position"]

    def __str__(self) -> str:
        return self.text[:80]


class LegislativeRequirement(models.Model):
    phase = models.ForeignKey(
        Phase, on_delete=models.PROTECT, related_name="legislative_requirements"
    )
    position = models.PositiveSmallIntegerField(default=0)
    text = MultiLineField()
    needs_new_legislation = models.BooleanField(default=False)

    class Meta:
        ordering = ["phase__number", "position"]

    def __str__(self) -> str:
        return self.text[:80]


class PersonnelRequirement(models.Model):
    phase = models.OneToOneField(Phase, on_delete=models.PROTECT, related_name="personnel")
    text = MultiLineField()

    class Meta:
        ordering = ["phase__number"]

    def __str__(self) -> str:
        return f"Personnel, phase {self.phase.number}"


class FundingLine(models.Model):
    """A row of the funding table; the total row has no phase."""

    phase = models.OneToOneField(
        Phase, null=True, blank=True, on_delete=models.PROTECT, related_name="funding"
    )
    label = SingleLineField(max_length=100, unique=True)
    estimated_cost = SingleLineField(max_length=200, help_text="As written in the roadmap.")
    cost_low_usd = models.DecimalField(max_digits=16, decimal_places=0, null=True, blank=True)
    cost_high_usd = models.DecimalField(max_digits=16, decimal_places=0, null=True, blank=True)
    per_year = models.BooleanField(default=False)
    funding_source = SingleLineField(max_length=300, blank=True)
    notes = MultiLineField(blank=True)
    is_total = models.BooleanField(default=False)

    class Meta:
        ordering = ["is_total", "phase__number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_total=True, phase__isnull=True)
                | Q(is_total=False, phase__isnull=False),
                name="funding_total_has_no_phase",
            ),
            models.CheckConstraint(
                condition=Q(cost_high_usd__isnull=True)
                | Q(cost_low_usd__isnull=True)
                | Q(cost_high_usd__gte=F("cost_low_usd")),
                name="funding_cost_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class InfrastructureRequirement(models.Model):
    area = SingleLineField(max_length=100, unique=True)
    text = MultiLineField()
    funded_by = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["area"]

    def __str__(self) -> str:
        return self.area


class GovernanceBody(models.Model):
    name = SingleLineField(max_length=200, unique=True)
    responsibilities = MultiLineField()
    meeting_frequency = SingleLineField(max_length=100, blank=True)
    agencies = models.ManyToManyField(Agency, blank=True, related_name="governance_bodies")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "governance bodies"

    def __str__(self) -> str:
        return self.name


class KeyAction(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        DELAYED = "delayed", "Delayed"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="key_actions")
    position = models.PositiveSmallIntegerField(default=0)
    title = SingleLineField(max_length=300)
    lead_actor = SingleLineField(max_length=200, help_text="As written, e.g. 'ONDCP/NSC'.")
    lead_agencies = models.ManyToManyField(Agency, related_name="key_actions")
    timeline = SingleLineField(max_length=100, help_text="As written, e.g. 'Months 1-6'.")
    start_month = models.PositiveSmallIntegerField()
    end_month = models.PositiveSmallIntegerField()
    resources_needed = MultiLineField(blank=True)
    cost_low_usd = models.DecimalField(max_digits=16, decimal_places=0, null=True, blank=True)
    cost_high_usd = models.DecimalField(max_digits=16, decimal_places=0, null=True, blank=True)
    cost_per_year = models.BooleanField(
        default=False, help_text="The cost range is per year rather than in total."
    )
    success_metric = SingleLineField(max_length=300)
    status = SingleLineField(
        max_length=20, choices=Status.choices, default=Status.NOT_STARTED, db_index=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["phase__number", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_month__gte=1)
                & Q(end_month__lte=PROGRAMME_MONTHS)
                & Q(end_month__gte=F("start_month")),
                name="keyaction_months_in_programme",
            ),
            models.CheckConstraint(
                condition=Q(cost_high_usd__isnull=True)
                | Q(cost_low_usd__isnull=True)
                | Q(cost_high_usd__gte=F("cost_low_usd")),
                name="keyaction_cost_range_ordered",
            ),
            models.UniqueConstraint(fields=["phase", "title"], name="keyaction_unique_title"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        bump_version(self)
        super().save(*args, **kwargs)


class Metric(models.Model):
    class Direction(models.TextChoices):
        INCREASE = "increase", "Higher is better"
        DECREASE = "decrease", "Lower is better"

    position = models.PositiveSmallIntegerField(default=0)
    name = SingleLineField(max_length=200, unique=True, help_text="The milestone.")
    unit = SingleLineField(max_length=100)
    milestone_year = models.PositiveSmallIntegerField()
    direction = SingleLineField(max_length=10, choices=Direction.choices)
    baseline = SingleLineField(max_length=100, help_text="As written, e.g. '~5 (informal)'.")
    baseline_low = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    baseline_high = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    phases = models.ManyToManyField(Phase, blank=True, related_name="metrics")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(milestone_year__gte=1) & Q(milestone_year__lte=10),
                name="metric_milestone_in_programme",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        bump_version(self)
        super().save(*args, **kwargs)


class MetricTarget(models.Model):
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="targets")
    year = models.PositiveSmallIntegerField()
    target = SingleLineField(max_length=100, help_text="As written, e.g. '5-10' or '50+'.")
    value_low = models.DecimalField(max_digits=14, decimal_places=2)
    value_high = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Empty: open-ended."
    )

    class Meta:
        ordering = ["metric", "year"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "year"], name="metrictarget_one_per_year"),
            models.CheckConstraint(
                condition=Q(year__gte=1) & Q(year__lte=10), name="metrictarget_year_in_programme"
            ),
            models.CheckConstraint(
                condition=Q(value_high__isnull=True) | Q(value_high__gte=F("value_low")),
                name="metrictarget_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} year {self.year}: {self.target}"


class MetricReading(models.Model):
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="readings")
    observed_on = models.DateField(validators=[sane_date])
    value = models.DecimalField(max_digits=14, decimal_places=2)
    source = SingleLineField(max_length=300)
    note = MultiLineField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["metric", "-observed_on"]
        indexes = [models.Index(fields=["metric", "-observed_on"], name="reading_metric_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "observed_on", "source"], name="reading_unique_per_source_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric}: {self.value} on {self.observed_on}"
