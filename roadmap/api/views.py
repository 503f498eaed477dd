from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api import (
    CachedListMixin,
    CSVExportMixin,
    VersionedMixin,
    requires,
    scoped_throttles,
    serializer_csv,
    wants_csv,
)
from common.api_schema import ApiView
from roadmap import services
from roadmap.api.serializers import (
    AgencySerializer,
    KeyActionSerializer,
    KeyActionWriteSerializer,
    MetricReadingInputSerializer,
    MetricReadingSerializer,
    MetricSerializer,
    MetricWriteSerializer,
    PhaseSerializer,
    RecordedReadingSerializer,
)
from roadmap.filters import KeyActionFilter
from roadmap.models import Agency, KeyAction, Metric, MetricReading, Phase

ID = r"[0-9]{1,18}"


class ReadOnlyViewSet(
    ApiView,
    CachedListMixin,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List and read, for every role with the view permission."""


class AgencyViewSet(ReadOnlyViewSet):
    """The agencies of the roadmap, by code; `parent` is the agency an office sits in (null
    for a top-level agency)."""

    queryset = Agency.objects.select_related("parent").order_by("code")
    serializer_class = AgencySerializer
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]{1,20}"
    ordering_fields = ["code", "name"]
    csv_filename = "agencies.csv"


class PhaseViewSet(ReadOnlyViewSet):
    """The roadmap's phases, by number, with their objectives, funding, personnel and
    legislative requirements."""

    queryset = (
        Phase.objects.select_related("funding", "personnel")
        .prefetch_related("objectives", "legislative_requirements")
        .order_by("number")
    )
    serializer_class = PhaseSerializer
    lookup_field = "number"
    lookup_value_regex = r"[0-9]{1,4}"
    ordering_fields = ["number"]
    csv_filename = "phases.csv"


class VersionedPatchViewSet(VersionedMixin, ReadOnlyViewSet):
    """Read for every role; PATCH (no PUT) for Staff, with If-Match (or `version`)."""

    write_serializer_class: type = KeyActionWriteSerializer

    def get_serializer_class(self):
        if self.action == "partial_update":
            return self.write_serializer_class
        return self.serializer_class

    def read_serializer(self, obj):
        return self.serializer_class(obj, context=self.get_serializer_context())

    def partial_update(self, request, *args, **kwargs):
        return self.versioned_update(
            request,
            partial=True,
            write_serializer_class=self.write_serializer_class,
            save=self.save,
        )

    def save(self, instance, data: dict, expected_version: int):
        raise NotImplementedError


class KeyActionViewSet(VersionedPatchViewSet):
    """The roadmap's key actions. GET of one answers an `ETag`; Staff PATCH with it in
    `If-Match` (or `version` in the body)."""

    queryset = (
        KeyAction.objects.select_related("phase")
        .prefetch_related("lead_agencies")
        .order_by("phase__number", "position", "id")
    )
    serializer_class = KeyActionSerializer
    write_serializer_class = KeyActionWriteSerializer
    filterset_class = KeyActionFilter
    lookup_value_regex = ID
    ordering_fields = ["id", "start_month", "end_month", "status", "title"]
    csv_filename = "key-actions.csv"
    etag_kind = "key-action"

    @extend_schema(request=KeyActionWriteSerializer, responses={200: KeyActionSerializer})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def save(self, instance, data, expected_version):
        return services.key_action_update(
            key_action=instance, user=self.request.user, expected_version=expected_version, **data
        )


class MetricViewSet(VersionedPatchViewSet):
    """Success metrics with their targets and readings. GET of one answers an `ETag`; Staff
    PATCH with it in `If-Match` (or `version`). Readings: /metrics/{id}/readings/."""

    queryset = Metric.objects.prefetch_related(
        "targets",
        "phases",
        Prefetch(
            "readings",
            queryset=MetricReading.objects.select_related("recorded_by").order_by("observed_on"),
        ),
    ).order_by("position", "id")
    throttle_scope: str | None = None  # set per action (recording readings: "readings")
    serializer_class = MetricSerializer
    write_serializer_class = MetricWriteSerializer
    lookup_value_regex = ID
    ordering_fields = ["id", "position", "name", "milestone_year"]
    csv_filename = "metrics.csv"
    # One row per target and per reading (`row` says which), not JSON inside a cell.
    csv_explode = {"targets": "target", "readings": "reading"}
    etag_kind = "metric"

    @extend_schema(request=MetricWriteSerializer, responses={200: MetricSerializer})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def save(self, instance, data, expected_version):
        return services.metric_update(
            metric=instance, user=self.request.user, expected_version=expected_version, **data
        )

    def get_permissions(self):
        if self.action == "readings":
            perm = "add" if self.request.method == "POST" else "view"
            return [requires(f"roadmap.{perm}_metricreading")()]
        return super().get_permissions()

    @extend_schema(
        methods=["GET"], responses={200: MetricReadingSerializer(many=True)}, filters=False
    )
    @extend_schema(
        methods=["POST"],
        request=MetricReadingInputSerializer,
        responses={201: RecordedReadingSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        **scoped_throttles("readings", writes_only=True),  # READINGS_RATE, recording only
    )
    def readings(self, request, pk=None):
        """GET: the metric's readings, newest first. POST (Staff): record one; a reading that
        crosses an indicator's threshold flags the indicator's risk (`flagged_risks`)."""
        metric = self.get_object()
        if request.method == "GET":
            readings = (
                MetricReading.objects.filter(metric=metric)
                .select_related("recorded_by")
                .order_by("-observed_on", "-id")
            )
            if wants_csv(request):
                return serializer_csv(
                    MetricReadingSerializer,
                    readings.iterator(chunk_size=1000),
                    context=self.get_serializer_context(),
                    filename=f"metric-{metric.pk}-readings.csv",
                )
            page = self.paginate_queryset(readings)
            data = MetricReadingSerializer(page, many=True).data
            return self.get_paginated_response(data)
        serializer = MetricReadingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reading = services.metric_reading_record(
            metric=metric, user=request.user, **serializer.validated_data
        )
        return Response(RecordedReadingSerializer(reading).data, status=status.HTTP_201_CREATED)
