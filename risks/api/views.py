from __future__ import annotations

import json

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from common import signing
from common.api import (
    CachedListMixin,
    CSVExportMixin,
    LogCursorPagination,
    VersionedMixin,
    csv_response,
    error,
    flatten,
    requires,
    scoped_throttles,
    serializer_csv,
    wants_csv,
)
from common.api_schema import ApiView
from risks import columns, history, selectors, services
from risks.api.pagination import TimelinePagination
from risks.api.serializers import (
    AssessmentSerializer,
    BoardReviewSerializer,
    BreachDismissSerializer,
    BreachSerializer,
    ChainReportSerializer,
    ContingencyEntrySerializer,
    ContingencySerializer,
    HeatmapSerializer,
    HistoryRecordSerializer,
    IndicatorSerializer,
    MitigationSerializer,
    ReviewSnapshotSerializer,
    RiskSerializer,
    RiskWriteSerializer,
    TriggerEntrySerializer,
)
from risks.filters import (
    AssessmentFilter,
    BreachFilter,
    HeatmapFilter,
    HistoryFilter,
    IndicatorFilter,
    MitigationFilter,
    ReviewFilter,
    RiskFilter,
    TriggerFilter,
)
from risks.models import (
    Assessment,
    Axis,
    BoardReview,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    ReviewSnapshot,
    Risk,
    RiskAcceptance,
)


class PEMRenderer(renderers.BaseRenderer):
    media_type = "application/x-pem-file"
    format = "pem"
    charset = "ascii"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode("ascii")
        # An error (a bad token's 401, a throttle's 429): JSON, as every API error is.
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


CODE = r"[A-Za-z0-9_-]{1,20}"
ID = r"[0-9]{1,18}"


def _open_breach_count(risk_field: str, on=None) -> Coalesce:
    """Open breaches of each row's risk or indicator (now, or at the end of `on`), as a
    subquery: no join, no GROUP BY. A historical row's risk is its `id`, not its pk."""
    if on is not None:
        breaches = selectors.breaches_open_on(on=on, risk_ref="id")
    else:
        breaches = IndicatorBreach.objects.filter(
            **{risk_field: OuterRef("pk")}, status=IndicatorBreach.Status.OPEN
        )
    breaches = breaches.order_by().values(risk_field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(breaches, output_field=IntegerField()), Value(0))


CONTINGENCY_RESPONSES = {
    201: ContingencyEntrySerializer,
    **dict(
        [
            error(409, "Refused by the contingency's state (e.g. already active, none active)."),
            error(403, "Only Staff (risks.add_triggerentry) record contingencies."),
        ]
    ),
}


def contingency_action(name: str, write, doc: str, *, throttle: str | None = None):
    """One of the risk's contingency actions (POST /risks/{code}/<name with dashes>/): the
    same permission, input, answers and schema for each; `write` is its service."""

    def record(self, request, code=None):
        return self.contingency_record(request, write)

    record.__name__ = record.__qualname__ = name  # DRF routes and names the action by it
    record.__doc__ = doc
    decorate = action(
        detail=True,
        methods=["post"],
        url_path=name.replace("_", "-"),
        permission_classes=[requires("risks.add_triggerentry")],
        filter_backends=[],
        **(scoped_throttles(throttle) if throttle else {}),
    )
    return extend_schema(request=ContingencySerializer, responses=CONTINGENCY_RESPONSES)(
        decorate(record)
    )


AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="YYYY-MM-DD: the risk's rating as it stood at the end of that day (404 if the "
    "risk did not exist yet).",
)


@extend_schema_view(
    retrieve=extend_schema(parameters=[AS_OF]),
    partial_update=extend_schema(request=RiskWriteSerializer, responses={200: RiskSerializer}),
)
class RiskViewSet(
    ApiView,
    VersionedMixin,
    CachedListMixin,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The register. Staff create and change risks; nobody deletes one through the API.

    GET of one risk answers an `ETag`; PUT/PATCH need it in `If-Match` (or `version` in the
    body). Contingencies are invoked, updated and stood down by their own actions."""

    queryset = Risk.objects.order_by("-score", "code")
    lookup_field = "code"
    lookup_value_regex = CODE
    filterset_class = RiskFilter
    ordering_fields = ["code", "score", "title", "next_review_due", "updated_at", "status"]
    ordering = ["-score", "code"]
    throttle_scope: str | None = None  # set per action (invoke-contingency: "contingency")
    csv_filename = "risks.csv"
    etag_kind = "risk"
    extra_query_params = {"retrieve": ("as_of",)}

    def filter_queryset(self, queryset):
        """Filters first (`as_of` swaps the live rows for the history's), then what every row
        shows: its agency, closer, links and open breaches, as of the same moment."""
        if "as_of" in self.request.query_params and self.request.method not in SAFE_METHODS:
            raise ValidationError({"as_of": "The past is read-only: drop as_of to change a risk."})
        risks = super().filter_queryset(queryset)
        as_of = self.as_of_day()
        return selectors.risk_links_prefetch(
            risks.select_related("owner_agency", "closed_by").annotate(
                open_breach_count=_open_breach_count("indicator__risk", on=as_of)
            )
        )

    def as_of_day(self):
        # Read once a request: validating the filters can query (agency, phase, rating), and
        # filter_queryset, the serializer context and the CSV all ask.
        if not hasattr(self, "_as_of_day"):
            filterset = RiskFilter(self.request.query_params, queryset=Risk.objects.none())
            valid = filterset.is_valid()
            self._as_of_day = filterset.form.cleaned_data.get("as_of") if valid else None
        return self._as_of_day

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "as_of": self.as_of_day()}

    def csv_header(self):
        return columns.header(columns.MACHINE)

    def csv_table(self, queryset):
        # The register's columns, defined once (risks/columns.py) and shared with the board's
        # files: rows from values() in chunks, not a serializer per risk.
        return columns.register_table(
            queryset,
            style=columns.MACHINE,
            scale=selectors.rating_scale(),
            request=self.request,
            as_of=self.as_of_day(),
        )

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return RiskWriteSerializer
        if self.action in ("invoke_contingency", "contingency_update", "stand_down"):
            return ContingencySerializer
        return RiskSerializer

    @extend_schema(request=RiskWriteSerializer, responses={201: RiskSerializer})
    def create(self, request, *args, **kwargs):
        serializer = RiskWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        risk = services.risk_create(user=request.user, **data)
        return Response(self._out(risk), status=status.HTTP_201_CREATED)

    @extend_schema(request=RiskWriteSerializer, responses={200: RiskSerializer})
    def update(self, request, *args, **kwargs):
        def save(risk, data, expected_version):
            data.pop("rationale", None)
            data.pop("confidence", None)
            return services.risk_update(
                risk=risk, user=request.user, expected_version=expected_version, **data
            )

        return self.versioned_update(
            request,
            partial=kwargs.get("partial", False),
            write_serializer_class=RiskWriteSerializer,
            save=save,
        )

    def read_serializer(self, risk: Risk):
        return RiskSerializer(risk, context=self.get_serializer_context())

    def _out(self, risk: Risk) -> dict:
        risk = self.get_queryset().get(pk=risk.pk)
        return RiskSerializer(risk, context=self.get_serializer_context()).data

    def contingency_record(self, request, write):
        risk = self.get_object()
        serializer = ContingencySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = write(risk=risk, user=request.user, **serializer.validated_data)
        return Response(ContingencyEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    invoke_contingency = contingency_action(
        "invoke_contingency",
        services.contingency_invoke,
        """Put the risk's contingency plan into effect: a trigger log entry (`invoked`), the
        risk becomes `contingency_active` and its open indicator breaches are resolved.""",
        throttle="contingency",  # it emails the Board: its own limit (CONTINGENCY_RATE)
    )
    contingency_update = contingency_action(
        "contingency_update",
        services.contingency_update,
        """Record progress while the contingency is active (an `update` entry).""",
    )
    stand_down = contingency_action(
        "stand_down",
        services.contingency_stand_down,
        """End the active contingency (a `stood_down` entry); the risk returns to the status it
        had before the invocation.""",
    )


class AssessmentViewSet(
    ApiView,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Every rating of every risk, each with the rating before it (`previous_*`, null for a
    risk's first). Posting one is how a risk's current rating changes."""

    queryset = selectors.with_previous_rating(
        Assessment.objects.select_related("risk", "assessed_by")
    )
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter
    pagination_class = LogCursorPagination
    lookup_value_regex = ID
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
        # Read back with the previous rating beside the new one.
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class MitigationViewSet(
    ApiView,
    VersionedMixin,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Mitigation actions. GET of one answers an `ETag`; PUT/PATCH need it in `If-Match` (or
    `version` in the body)."""

    queryset = MitigationAction.objects.select_related("risk", "owner_agency", "key_action")
    serializer_class = MitigationSerializer
    filterset_class = MitigationFilter
    lookup_value_regex = ID
    ordering_fields = ["due_date", "id", "status", "percent_complete"]
    ordering = ["due_date", "id"]
    csv_filename = "mitigations.csv"
    etag_kind = "mitigation"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.mitigation_create(user=self.request.user, **data)

    def update(self, request, *args, **kwargs):
        def save(mitigation, data, expected_version):
            return services.mitigation_update(
                mitigation=mitigation,
                user=request.user,
                expected_version=expected_version,
                **data,
            )

        return self.versioned_update(
            request,
            partial=kwargs.get("partial", False),
            write_serializer_class=MitigationSerializer,
            save=save,
        )


class TriggerEntryViewSet(
    ApiView,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The trigger log: contingencies invoked, updated and stood down, newest first. Append-only
    (no PUT, PATCH or DELETE); each entry holds the hash of the one before it. Look an entry up
    by its sequence number."""

    queryset = selectors.trigger_log_list()
    serializer_class = TriggerEntrySerializer
    filterset_class = TriggerFilter
    pagination_class = LogCursorPagination
    lookup_field = "sequence"
    lookup_value_regex = ID
    ordering_fields = ["sequence", "recorded_at"]
    ordering = ["-sequence"]
    csv_filename = "triggers.csv"

    @extend_schema(
        responses={200: ChainReportSerializer, 409: ChainReportSerializer}, filters=False
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def verify(self, request):
        """Check the whole log: every hash, link and signed head, that sequence numbers and
        times only increase, that every recorder holds the permission to record, and every
        finalised board review's anchor. 200 with `ok: true` when all hold; 409 with
        `ok: false` and `first_bad_sequence` (the first bad entry) when anything does not."""
        report = selectors.trigger_log_verify()
        return Response(
            ChainReportSerializer(report).data,
            status=status.HTTP_200_OK if report.ok else status.HTTP_409_CONFLICT,
        )

    @extend_schema(
        responses={(200, PEMRenderer.media_type): OpenApiTypes.BINARY},
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="public-key",
        filter_backends=[],
        pagination_class=None,
        permission_classes=[permissions.AllowAny],
        renderer_classes=[PEMRenderer],
    )
    def public_key(self, request):
        """The Ed25519 public key (PEM, SubjectPublicKeyInfo) that verifies every signed head
        of the trigger log. Public: no sign-in needed. Keep a copy from a trusted channel and
        check against it (tools/verify_trigger_log.py --public-key)."""
        return Response(signing.public_key_pem())


class IndicatorViewSet(
    ApiView,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Key risk indicators: a reading of `metric` that crosses `threshold` flags `risk` with an
    open breach. Staff create and change them."""

    queryset = (
        Indicator.objects.select_related("risk", "metric")
        .annotate(open_breach_count=_open_breach_count("indicator"))
        .order_by("risk__code", "id")
    )
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilter
    lookup_value_regex = ID
    ordering_fields = ["id", "risk__code", "threshold"]
    ordering = ["risk__code", "id"]
    csv_filename = "indicators.csv"

    def perform_create(self, serializer):
        indicator = services.indicator_create(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=indicator.pk)

    def perform_update(self, serializer):
        indicator = services.indicator_update(
            indicator=serializer.instance, user=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=indicator.pk)


class BreachViewSet(
    ApiView,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Indicator breaches: each open one flags its risk for trigger review until Staff invoke
    the contingency or dismiss it with a reason."""

    queryset = IndicatorBreach.objects.select_related(
        "indicator__risk", "indicator__metric", "reading", "resolved_by"
    ).order_by("-detected_at", "-id")
    serializer_class = BreachSerializer
    filterset_class = BreachFilter
    lookup_value_regex = ID
    ordering_fields = ["detected_at", "id", "status"]
    ordering = ["-detected_at", "-id"]
    csv_filename = "breaches.csv"

    def get_serializer_class(self):
        return BreachDismissSerializer if self.action == "dismiss" else BreachSerializer

    @extend_schema(
        request=BreachDismissSerializer,
        responses={
            200: BreachSerializer,
            **dict([error(409, "The breach is already resolved.")]),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[requires("risks.change_indicatorbreach")],
        filter_backends=[],
    )
    def dismiss(self, request, pk=None):
        """Clear the flag without invoking the contingency, saying why."""
        breach = self.get_object()
        serializer = BreachDismissSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        breach = services.indicator_breach_dismiss(
            breach=breach, user=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(BreachSerializer(self.get_queryset().get(pk=breach.pk)).data)


class ReviewViewSet(
    ApiView,
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The board's quarterly reviews (read-only): attendees, decisions, acceptances and, once
    final, the snapshot of every open risk's rating. Look one up by quarter, e.g. 2027-Q1."""

    queryset = (
        BoardReview.objects.select_related("created_by", "finalised_by", "trigger_log_anchor")
        .annotate(snapshot_count=Count("snapshots"))
        .prefetch_related(
            Prefetch(
                "acceptances",
                queryset=RiskAcceptance.objects.select_related("risk", "accepted_by"),
            )
        )
        .order_by("-quarter")
    )
    serializer_class = BoardReviewSerializer
    filterset_class = ReviewFilter
    lookup_field = "quarter"
    lookup_value_regex = r"[0-9]{4}-Q[1-4]"
    ordering_fields = ["quarter", "meeting_date"]
    ordering = ["-quarter"]
    csv_filename = "reviews.csv"

    @extend_schema(responses={200: ReviewSnapshotSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def snapshots(self, request, quarter=None):
        """The rating, target, status and confidence of every open risk, frozen when the
        review was finalised (none while it is a draft), highest score first."""
        review = self.get_object()
        rows = (
            ReviewSnapshot.objects.filter(review=review)
            .select_related("risk")
            .order_by("-score", "risk__code")
        )
        context = self.get_serializer_context()
        if wants_csv(request):
            return serializer_csv(
                ReviewSnapshotSerializer,
                rows.iterator(chunk_size=1000),
                context=context,
                filename=f"review-{review.quarter}-snapshots.csv",
            )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            ReviewSnapshotSerializer(page, many=True, context=context).data
        )


class HistoryPermission(permissions.IsAuthenticated):
    """View permission on the model whose history is asked for; without `model`, on at least
    one tracked model (the timeline then holds only those the user may view)."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return bool(view.readable())


class HistoryViewSet(ApiView, CSVExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The change history, newest first: who changed what, when and why, with a
    field-by-field diff against the previous record of the same object; foreign keys appear
    as ids. Without `model`, one timeline of every tracked kind of record the user may view
    (filters apply to each; `risk` keeps the kinds that belong to a risk); with `model`, that
    kind only. Cursor-paged: follow `next` to walk it all without skipping or repeating a
    row."""

    queryset = history.TRACKED[history.DEFAULT_MODEL].history_model.objects.all()
    serializer_class = HistoryRecordSerializer
    filterset_class = HistoryFilter
    pagination_class = TimelinePagination
    permission_classes = [HistoryPermission]
    ordering_fields = ["history_date"]
    ordering = ["-history_date"]
    csv_filename = "history.csv"

    def readable(self) -> list[history.Tracked]:
        user = self.request.user
        named = self.request.query_params.get("model")
        kinds = [history.tracked_for(named)] if named else history.TRACKED.values()
        return [t for t in kinds if user.has_perm(t.view_permission)]

    def branches(self) -> dict[history.Tracked, object]:
        """Each readable history table, filtered by the same HistoryFilter."""
        params = self.request.query_params
        kinds = self.readable()
        if not params.get("model"):
            if params.get("object"):
                raise ValidationError({"object": ["Name the `model` whose record this is."]})
            if params.get("risk"):
                kinds = [t for t in kinds if history.applies_to_risks(t)]
        branches = {}
        for tracked in kinds:
            filterset = HistoryFilter(
                params, queryset=tracked.history_model.objects.all(), request=self.request
            )
            if not filterset.is_valid():
                raise utils.translate_validation(filterset.errors)
            branches[tracked] = filterset.qs
        return branches

    def ascending(self) -> bool:
        ordering = self.request.query_params.get("ordering", "-history_date")
        if ordering not in ("history_date", "-history_date"):
            raise ValidationError({"ordering": ["history_date or -history_date."]})
        return ordering == "history_date"

    def list(self, request, *args, **kwargs):
        branches, ascending = self.branches(), self.ascending()
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return csv_response(
                self.csv_header(), self._csv_rows(branches, ascending), filename=self.csv_filename
            )
        page = self.paginator.paginate_branches(branches, request, ascending=ascending)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _csv_rows(self, branches, ascending):
        context = self.get_serializer_context()
        header = self.csv_header()
        serializer = HistoryRecordSerializer(context=context)
        for record in history.merged_walk(branches, ascending=ascending):
            row = serializer.to_representation(record)
            row["changes"] = "; ".join(
                f"{c['field']}: {c['old']} -> {c['new']}" for c in row["changes"]
            )
            flat = flatten(row)
            yield [flat.get(name, "") for name in header]


class HeatmapView(ApiView, APIView):
    """The likelihood x impact grid: every cell, empty ones with count 0."""

    permission_classes = [requires("risks.view_risk")]
    filter_backends = [DjangoFilterBackend]
    filterset_class = HeatmapFilter
    queryset = Risk.objects.all()

    @extend_schema(
        filters=True,
        responses={
            200: HeatmapSerializer,
            **dict([error(400, "An unknown filter or value, named with its message.")]),
        },
    )
    def get(self, request):
        if not wants_csv(request):
            # The answer is kept under the query string as given: a hit validates nothing and
            # serialises nothing; an invalid query raises (400) before anything is kept.
            return Response(
                selectors.register_cached(
                    ("heatmap_json", sorted(request.query_params.lists())),
                    lambda: self.answer(request),
                )
            )
        filterset, as_of, basis = self.filters(request)
        heatmap = selectors.heatmap_grid(risks=filterset.qs, basis=basis, as_of=as_of)
        return csv_response(
            HEATMAP_CSV_HEADER,
            _heatmap_csv_rows(heatmap, as_of=as_of),
            filename=f"heatmap-{heatmap.basis}{f'-{as_of}' if as_of else ''}.csv",
        )

    def filters(self, request):
        filterset = HeatmapFilter(request.query_params, queryset=Risk.objects.all())
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        data = filterset.form.cleaned_data
        return filterset, data.get("as_of"), data.get("basis") or "current"

    def answer(self, request) -> dict:
        filterset, as_of, basis = self.filters(request)
        return HeatmapSerializer.from_heatmap(
            selectors.heatmap_grid(risks=filterset.qs, basis=basis, as_of=as_of), as_of=as_of
        )


HEATMAP_CSV_HEADER = [
    "basis",
    "as_of",
    "likelihood",
    "likelihood_label",
    "impact",
    "impact_label",
    "score",
    "band",
    "above_appetite",
    "count",
    "risks",
    "more",
]


def _heatmap_csv_rows(heatmap, *, as_of):
    """One row per cell of the grid, empty cells included, the risks' codes joined by "; "."""
    scale = heatmap.scale
    for cell in heatmap.cells:
        yield [
            heatmap.basis,
            as_of.isoformat() if as_of else "",
            cell.likelihood,
            scale.label(Axis.LIKELIHOOD, cell.likelihood),
            cell.impact,
            scale.label(Axis.IMPACT, cell.impact),
            cell.score,
            cell.band.name if cell.band else "",
            cell.above_appetite,
            cell.count,
            "; ".join(cell.risks),
            cell.more,
        ]
