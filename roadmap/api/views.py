from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import mixins, viewsets

from config.api import CSVExportMixin
from roadmap.api.serializers import (
    AgencySerializer,
    KeyActionSerializer,
    MetricSerializer,
    PhaseSerializer,
)
from roadmap.filters import KeyActionFilter
from roadmap.models import Agency, KeyAction, Metric, MetricReading, Phase


class ReadOnlyViewSet(
    CSVExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    pass


class AgencyViewSet(ReadOnlyViewSet):
    queryset = Agency.objects.select_related("parent").order_by("code")
    serializer_class = AgencySerializer
    lookup_field = "code"
    ordering_fields = ["code", "name"]
    csv_filename = "agencies.csv"


class PhaseViewSet(ReadOnlyViewSet):
    queryset = (
        Phase.objects.select_related("funding", "personnel")
        .prefetch_related("objectives", "legislative_requirements")
        .order_by("number")
    )
    serializer_class = PhaseSerializer
    lookup_field = "number"
    ordering_fields = ["number"]
    csv_filename = "phases.csv"


class KeyActionViewSet(ReadOnlyViewSet):
    queryset = (
        KeyAction.objects.select_related("phase")
        .prefetch_related("lead_agencies")
        .order_by("phase__number", "position", "id")
    )
    serializer_class = KeyActionSerializer
    filterset_class = KeyActionFilter
    ordering_fields = ["id", "start_month", "end_month", "status", "title"]
    csv_filename = "key-actions.csv"


class MetricViewSet(ReadOnlyViewSet):
    queryset = Metric.objects.prefetch_related(
        "targets",
        "phases",
        Prefetch(
            "readings",
            queryset=MetricReading.objects.select_related("recorded_by").order_by("observed_on"),
        ),
    ).order_by("position", "id")
    serializer_class = MetricSerializer
    ordering_fields = ["id", "position", "name", "milestone_year"]
    csv_filename = "metrics.csv"
