"""FilterSets for the register; the API and the pages share them."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from risks.models import Assessment, MitigationAction, RatingBand, Risk
from risks.selectors import BASES, risks_as_of
from roadmap.models import Agency, Phase


@extend_schema_field(OpenApiTypes.STR)
class SlugChoiceFilter(filters.ModelChoiceFilter):
    """A choice of one row by its code or name; an unknown value answers 400."""


class RiskFilter(filters.FilterSet):
    phase = filters.ModelChoiceFilter(
        label="Phase",
        field_name="phases",
        queryset=Phase.objects.all(),
        to_field_name="number",
        help_text="Phase number (1-3).",
    )
    agency = SlugChoiceFilter(
        label="Agency",
        queryset=Agency.objects.all(),
        to_field_name="code",
        method="filter_agency",
        help_text="Agency code: the risk's owner agency or a supporting agency.",
    )
    owner = filters.CharFilter(
        field_name="owner", lookup_expr="icontains", help_text="Part of the owner's name."
    )
    category = filters.ChoiceFilter(choices=Risk.Category.choices)
    status = filters.ChoiceFilter(choices=Risk.Status.choices)
    rating = SlugChoiceFilter(
        label="Rating",
        queryset=RatingBand.objects.all(),
        to_field_name="name",
        method="filter_rating",
        help_text="Rating band name, e.g. Critical.",
    )
    score_min = filters.NumberFilter(field_name="score", lookup_expr="gte")
    score_max = filters.NumberFilter(field_name="score", lookup_expr="lte")
    review_overdue = filters.TypedChoiceFilter(
        label="Review overdue",
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        method="filter_review_overdue",
        help_text="true: the next review date has passed; false: it has not.",
    )
    updated_after = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    as_of = filters.DateFilter(
        label="As of (YYYY-MM-DD)",
        method="filter_as_of",
        help_text="YYYY-MM-DD: each risk's rating as it stood at the end of that day.",
    )

    class Meta:
        model = Risk
        fields = ["phase", "agency", "owner", "category", "status", "rating"]

    def filter_as_of(self, queryset, name, value):
        return queryset if value is None else risks_as_of(queryset, value)

    def filter_agency(self, queryset, name, agency):
        if agency is None:
            return queryset
        # EXISTS rather than a join: a risk with several supporting agencies appears once.
        supporting = Risk.supporting_agencies.through.objects.filter(
            risk=OuterRef("pk"), agency=agency
        )
        return queryset.filter(Q(owner_agency=agency) | Exists(supporting))

    def filter_rating(self, queryset, name, band):
        if band is None:
            return queryset
        return queryset.filter(score__gte=band.min_score, score__lte=band.max_score)

    def filter_review_overdue(self, queryset, name, value: bool):
        if value in (None, ""):
            return queryset
        overdue = Q(next_review_due__lt=timezone.localdate()) & ~Q(status=Risk.Status.CLOSED)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class _LogFilter(filters.FilterSet):
    """Risk, user and date range: the filters every log shares."""

    risk = filters.ModelChoiceFilter(
        queryset=Risk.objects.all(), to_field_name="code", help_text="Risk code, e.g. R1."
    )


class AssessmentFilter(_LogFilter):
    user = filters.CharFilter(field_name="assessed_by__username", help_text="Username.")
    after = filters.IsoDateTimeFilter(field_name="assessed_at", lookup_expr="gte")
    before = filters.IsoDateTimeFilter(field_name="assessed_at", lookup_expr="lte")

    class Meta:
        model = Assessment
        fields = ["risk", "user", "after", "before"]


class MitigationFilter(filters.FilterSet):
    risk = filters.ModelChoiceFilter(queryset=Risk.objects.all(), to_field_name="code")
    owner_agency = filters.ModelChoiceFilter(queryset=Agency.objects.all(), to_field_name="code")
    status = filters.ChoiceFilter(choices=MitigationAction.Status.choices)
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = MitigationAction
        fields = ["risk", "owner_agency", "status", "due_before", "due_after"]


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

    filter_agency = RiskFilter.filter_agency
