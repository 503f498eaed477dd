"""FilterSets for the register; the API and the pages share them."""

from __future__ import annotations

import datetime

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from risks import rules
from risks.history import TRACKED, applies_to_risks, history_for_risk, tracked_by_history_model
from risks.models import (
    Assessment,
    BoardReview,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    RatingBand,
    Risk,
    TriggerEntry,
)
from risks.selectors import (
    BASES,
    breaches_as_of,
    dated_by,
    heatmap_risks,
    indicators_as_of,
    mitigations_as_of,
    risk_link_filter,
    risk_list,
)
from roadmap.models import Agency, Phase


@extend_schema_field(OpenApiTypes.STR)
class SlugChoiceFilter(filters.ModelChoiceFilter):
    """A choice of one row by its code or name; an unknown value answers 400."""


class UtcDateTimeField(filters.fields.IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


@extend_schema_field(OpenApiTypes.DATETIME)
class DateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 date-time (or date), compared in UTC: PostgreSQL refuses UTC offsets beyond
    15:59 that Python accepts, and an offset at the calendar's edge cannot be shifted (400)."""

    field_class = UtcDateTimeField


@extend_schema_field(OpenApiTypes.INT)
class PhaseFilter(filters.ModelChoiceFilter):
    """A phase by its number (1-3)."""


class AgencyField(filters.fields.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.code})"


@extend_schema_field(OpenApiTypes.STR)
class AgencyFilter(SlugChoiceFilter):
    """An agency by code; the form shows its name."""

    field_class = AgencyField


class YesNoFilter(filters.ChoiceFilter):
    """true / false, with an "All" default: an untouched form never hides a row."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "Yes"), ("false", "No")])
        super().__init__(*args, **kwargs)


def active_filters(filterset: filters.FilterSet) -> list[tuple[str, str]]:
    """(label, shown value) of each filter the user set, for the page and the exports."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    shown = []
    for name, field in filterset.form.fields.items():
        value = filterset.form.cleaned_data.get(name)
        if value in (None, "", []):
            continue
        choices = dict(getattr(field, "choices", ()) or ())
        if hasattr(field, "queryset"):
            text = str(value)
        else:
            text = str(choices.get(value, choices.get(str(value), value)))
        # A filter declared without a label gets one from its model field only once django-filter
        # has seen the model, which depends on what touched the shared filter first: capfirst
        # the fallback so the page and the exports name it the same way every time.
        label = field.label or filterset.filters[name].label or name.replace("_", " ")
        shown.append((capfirst(str(label)), text))
    return shown


class RiskFilter(filters.FilterSet):
    phase = PhaseFilter(
        label="Phase",
        queryset=Phase.objects.all(),
        to_field_name="number",
        method="filter_phase",
        help_text="Phase number (1-3).",
    )
    agency = AgencyFilter(
        label="Agency",
        queryset=Agency.objects.all(),
        to_field_name="code",
        method="filter_agency",
        help_text="Agency code: the risk's owner agency or a supporting agency.",
    )
    owner = filters.CharFilter(
        label="Owner's name contains",
        field_name="owner",
        lookup_expr="icontains",
        help_text="Part of the owner's name.",
    )
    category = filters.ChoiceFilter(label="Category", choices=Risk.Category.choices)
    status = filters.ChoiceFilter(label="Status", choices=Risk.Status.choices)
    rating = SlugChoiceFilter(
        label="Rating",
        queryset=RatingBand.objects.all(),
        to_field_name="name",
        method="filter_rating",
        help_text="Rating band name, e.g. Critical.",
    )
    score_min = filters.NumberFilter(label="Score at least", field_name="score", lookup_expr="gte")
    score_max = filters.NumberFilter(label="Score at most", field_name="score", lookup_expr="lte")
    review_overdue = YesNoFilter(
        label="Review overdue",
        method="filter_review_overdue",
        help_text="true: the next review date has passed; false: it has not. Default: both.",
    )
    updated_after = DateTimeFilter(
        label="Updated since", field_name="updated_at", lookup_expr="gte"
    )
    as_of = filters.DateFilter(
        label="As of (YYYY-MM-DD)",
        method="keep",
        help_text="YYYY-MM-DD: every risk as it stood at the end of that day (UTC), from the "
        "change history; the other filters apply to that state.",
    )

    class Meta:
        model = Risk
        fields = ["phase", "agency", "owner", "category", "status", "rating"]

    def keep(self, queryset, name, value):
        # Read by filter_queryset, not a row filter.
        return queryset

    @property
    def as_of_day(self) -> datetime.date | None:
        return self.form.cleaned_data.get("as_of")

    def base_queryset(self, queryset):
        """The live rows given, or the register as of the day asked for."""
        if self.as_of_day is None:
            return queryset
        return risk_list(as_of=self.as_of_day)

    def filter_queryset(self, queryset):
        return super().filter_queryset(self.base_queryset(queryset))

    def filter_phase(self, queryset, name, phase):
        if phase is None:
            return queryset
        return queryset.filter(risk_link_filter(queryset, "phases", phase))

    def filter_agency(self, queryset, name, agency):
        if agency is None:
            return queryset
        return queryset.filter(
            Q(owner_agency=agency) | risk_link_filter(queryset, "supporting_agencies", agency)
        )

    def filter_rating(self, queryset, name, band):
        if band is None:
            return queryset
        return queryset.filter(score__gte=band.min_score, score__lte=band.max_score)

    def filter_review_overdue(self, queryset, name, value: str):
        if value in (None, ""):
            return queryset
        overdue = rules.overdue_q(self.as_of_day or timezone.localdate())
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)


class AsOfFilterSet(filters.FilterSet):
    """A list of the register's records that `as_of=D` shows as they stood at the end of day
    D (UTC), as the risks list does: `past(queryset, day)` gives those rows (from the change
    history, or the dated records up to then), and the other filters apply to them."""

    as_of = filters.DateFilter(
        label="As of (YYYY-MM-DD)",
        method="keep_as_of",
        help_text="YYYY-MM-DD: the records as they stood at the end of that day (UTC): those "
        "written later are left out, changed ones show their state of that day (from the "
        "change history); the other filters apply to that state.",
    )

    def keep_as_of(self, queryset, name, value):
        # Read by filter_queryset, not a row filter.
        return queryset

    def past(self, queryset, day: datetime.date):
        raise NotImplementedError

    def filter_queryset(self, queryset):
        day = self.form.cleaned_data.get("as_of")
        if day is not None:
            queryset = self.past(queryset, day)
        return super().filter_queryset(queryset)


class _LogFilter(AsOfFilterSet):
    """Risk, user and date range: the filters every log shares."""

    risk = filters.ModelChoiceFilter(
        queryset=Risk.objects.all(), to_field_name="code", help_text="Risk code, e.g. R1."
    )


class AssessmentFilter(_LogFilter):
    user = filters.CharFilter(field_name="assessed_by__username", help_text="Username.")
    after = DateTimeFilter(field_name="assessed_at", lookup_expr="gte")
    before = DateTimeFilter(field_name="assessed_at", lookup_expr="lte")

    class Meta:
        model = Assessment
        fields = ["risk", "user", "after", "before"]

    def past(self, queryset, day):
        return dated_by(queryset, "assessed_at", as_of=day)  # never changed once recorded


class MitigationFilter(AsOfFilterSet):
    risk = filters.ModelChoiceFilter(queryset=Risk.objects.all(), to_field_name="code")
    owner_agency = filters.ModelChoiceFilter(queryset=Agency.objects.all(), to_field_name="code")
    status = filters.ChoiceFilter(choices=MitigationAction.Status.choices)
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = MitigationAction
        fields = ["risk", "owner_agency", "status", "due_before", "due_after"]

    def past(self, queryset, day):
        return mitigations_as_of(as_of=day).order_by("due_date", "id")


class HeatmapFilter(filters.FilterSet):
    """The heatmap's filters, shared by /heatmap/ and /api/v1/heatmap/."""

    phase = RiskFilter.base_filters["phase"]
    agency = RiskFilter.base_filters["agency"]
    category = RiskFilter.base_filters["category"]
    status = RiskFilter.base_filters["status"]
    basis = filters.ChoiceFilter(
        label="Basis",
        choices=[(b, b) for b in BASES],
        method="keep",
        empty_label="current",
        help_text="current (default) or target: the residual rating the mitigations aim for.",
    )
    as_of = filters.DateFilter(
        label="As of (YYYY-MM-DD)",
        method="keep",
        help_text="YYYY-MM-DD: the grid as it stood at the end of that day.",
    )

    class Meta:
        model = Risk
        fields = ["phase", "agency", "category", "status"]

    def keep(self, queryset, name, value):
        # Read by the selector, not a row filter.
        return queryset

    def base_queryset(self, queryset):
        """Whatever queryset is given, the grid counts the rows rules.heatmap_includes_closed
        picks, live or as of a day: the page and the API cannot disagree."""
        data = self.form.cleaned_data
        return heatmap_risks(status=data.get("status"), as_of=data.get("as_of"))

    def filter_queryset(self, queryset):
        return super().filter_queryset(self.base_queryset(queryset))

    filter_agency = RiskFilter.filter_agency
    filter_phase = RiskFilter.filter_phase


class TriggerFilter(_LogFilter):
    user = filters.CharFilter(field_name="recorded_by__username", help_text="Username.")
    kind = filters.ChoiceFilter(choices=TriggerEntry.Kind.choices)
    after = DateTimeFilter(
        field_name="recorded_at", lookup_expr="gte", help_text="ISO date or date-time."
    )
    before = DateTimeFilter(
        field_name="recorded_at", lookup_expr="lte", help_text="ISO date or date-time."
    )

    class Meta:
        model = TriggerEntry
        fields = ["risk", "user", "kind", "after", "before"]

    def past(self, queryset, day):
        return dated_by(queryset, "recorded_at", as_of=day)  # append-only


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A whole-number id; anything else answers 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IndicatorFilter(_LogFilter):
    metric = IdFilter(field_name="metric_id", help_text="Metric id.")
    active = YesNoFilter(method="filter_active", help_text="true or false.")
    comparison = filters.ChoiceFilter(choices=Indicator.Comparison.choices)

    class Meta:
        model = Indicator
        fields = ["risk", "metric", "active", "comparison"]

    def filter_active(self, queryset, name, value: str):
        return queryset if value in (None, "") else queryset.filter(active=value == "true")

    def past(self, queryset, day):
        return indicators_as_of(as_of=day).order_by("risk__code", "id")


class BreachFilter(AsOfFilterSet):
    risk = filters.ModelChoiceFilter(
        field_name="indicator__risk",
        queryset=Risk.objects.all(),
        to_field_name="code",
        help_text="Risk code, e.g. R3.",
    )
    indicator = IdFilter(field_name="indicator_id", help_text="Indicator id.")
    metric = IdFilter(field_name="indicator__metric_id", help_text="Metric id.")
    status = filters.ChoiceFilter(choices=IndicatorBreach.Status.choices)
    after = DateTimeFilter(field_name="detected_at", lookup_expr="gte")
    before = DateTimeFilter(field_name="detected_at", lookup_expr="lte")

    class Meta:
        model = IndicatorBreach
        fields = ["risk", "indicator", "metric", "status", "after", "before"]

    def past(self, queryset, day):
        return breaches_as_of(as_of=day).order_by("-detected_at", "-id")


class ReviewFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=BoardReview.Status.choices)
    year = filters.NumberFilter(
        field_name="quarter", method="filter_year", help_text="Year of the quarter, e.g. 2027."
    )

    class Meta:
        model = BoardReview
        fields = ["status", "year"]

    def filter_year(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(quarter__startswith=f"{int(value):04d}-")


class HistoryFilter(filters.FilterSet):
    """Filters of /api/v1/history/, applied to each history table; `model` picks one table
    (see the view)."""

    model = filters.ChoiceFilter(
        choices=[(name, name) for name in TRACKED],
        method="keep",
        empty_label="all",
        help_text="Whose history: " + ", ".join(TRACKED) + ". Default: all of them, merged.",
    )
    object = IdFilter(
        field_name="id", help_text="The record's id; needs `model` (for risks: see `risk`)."
    )
    risk = SlugChoiceFilter(
        queryset=Risk.objects.all(),
        to_field_name="code",
        method="filter_risk",
        help_text="Risk code: the risk's own history, or that of its mitigations, indicators, "
        "breaches or acceptances.",
    )
    user = filters.CharFilter(field_name="history_user__username", help_text="Who changed it.")
    type = filters.ChoiceFilter(
        field_name="history_type",
        choices=[("+", "created"), ("~", "changed"), ("-", "deleted")],
        help_text="+ created, ~ changed, - deleted.",
    )
    after = DateTimeFilter(
        field_name="history_date", lookup_expr="gte", help_text="ISO date-time, inclusive."
    )
    before = DateTimeFilter(
        field_name="history_date", lookup_expr="lte", help_text="ISO date-time, inclusive."
    )

    def keep(self, queryset, name, value):
        return queryset

    def filter_risk(self, queryset, name, risk):
        if risk is None:
            return queryset
        tracked = tracked_by_history_model(queryset.model)
        if not applies_to_risks(tracked):
            raise ValidationError({"risk": f"The {tracked.name} history has no risk to filter by."})
        return history_for_risk(queryset, tracked, risk)
