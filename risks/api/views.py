from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import CSVExportMixin, LogCursorPagination, requires
from risks import selectors, services
from risks.api.serializers import (
    AssessmentSerializer,
    HeatmapSerializer,
    MitigationSerializer,
    RiskSerializer,
    RiskWriteSerializer,
)
from risks.filters import AssessmentFilter, HeatmapFilter, MitigationFilter, RiskFilter
from risks.models import Assessment, MitigationAction, Risk


class RiskViewSet(
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The register. Staff create and change risks; nobody deletes one through the API."""

    queryset = (
        Risk.objects.select_related("owner_agency", "closed_by")
        .prefetch_related("supporting_agencies", "phases", "key_actions")
        .order_by("-score", "code")
    )
    lookup_field = "code"
    filterset_class = RiskFilter
    ordering_fields = ["code", "score", "title", "next_review_due", "updated_at", "status"]
    ordering = ["-score", "code"]
    csv_filename = "risks.csv"

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return RiskWriteSerializer
        return RiskSerializer

    @extend_schema(request=RiskWriteSerializer, responses={201: RiskSerializer})
    def create(self, request, *args, **kwargs):
        serializer = RiskWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        risk = services.risk_create(user=request.user, **serializer.validated_data)
        return Response(self._out(risk), status=status.HTTP_201_CREATED)

    @extend_schema(request=RiskWriteSerializer, responses={200: RiskSerializer})
    def update(self, request, *args, **kwargs):
        risk = self.get_object()
        serializer = RiskWriteSerializer(
            risk,
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("rationale", None)
        data.pop("confidence", None)
        risk = services.risk_update(risk=risk, user=request.user, **data)
        return Response(self._out(risk))

    def _out(self, risk: Risk) -> dict:
        risk = self.get_queryset().get(pk=risk.pk)
        return RiskSerializer(risk, context=self.get_serializer_context()).data


class AssessmentViewSet(
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Every rating of every risk. Posting one is how a risk's current rating changes."""

    queryset = Assessment.objects.select_related("risk", "assessed_by")
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter
    pagination_class = LogCursorPagination
    ordering_fields = ["assessed_at", "id"]
    ordering = ["-assessed_at", "-id"]
    csv_filename = "assessments.csv"

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.risk_assess(
            risk=data["risk"],
            likelihood=data["likelihood"],
            impact=data["impact"],
            rationale=data["rationale"],
            confidence=data["confidence"],
            user=self.request.user,
        )


class MitigationViewSet(
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = MitigationAction.objects.select_related("risk", "owner_agency", "key_action")
    serializer_class = MitigationSerializer
    filterset_class = MitigationFilter
    ordering_fields = ["due_date", "id", "status", "percent_complete"]
    ordering = ["due_date", "id"]
    csv_filename = "mitigations.csv"

    def perform_create(self, serializer):
        serializer.instance = services.mitigation_create(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.mitigation_update(
            mitigation=serializer.instance, user=self.request.user, **serializer.validated_data
        )


class HeatmapView(APIView):
    """The likelihood x impact grid: every cell, empty ones with count 0."""

    permission_classes = [requires("risks.view_risk")]
    filter_backends = [DjangoFilterBackend]
    filterset_class = HeatmapFilter
    queryset = Risk.objects.all()

    @extend_schema(responses=HeatmapSerializer)
    def get(self, request):
        filterset = HeatmapFilter(
            request.query_params,
            queryset=selectors.risks_on_register(include_closed="status" in request.query_params),
            request=request,
        )
        if not filterset.is_valid():
            return Response(filterset.errors, status=status.HTTP_400_BAD_REQUEST)
        data = filterset.form.cleaned_data
        as_of = data.get("as_of")
        heatmap = selectors.heatmap_grid(
            risks=filterset.qs, basis=data.get("basis") or "current", as_of=as_of
        )
        return Response(HeatmapSerializer.from_heatmap(heatmap, as_of=as_of))
