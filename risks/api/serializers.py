from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from common.api import RefuseUnknownFields
from risks import columns, rules
from risks.history import TRACKED
from risks.models import (
    MAX_LEVEL,
    MIN_LEVEL,
    Assessment,
    Axis,
    BoardReview,
    Confidence,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    ReviewSnapshot,
    Risk,
    RiskAcceptance,
    TriggerCheckpoint,
    TriggerEntry,
)
from risks.selectors import Scale, rating_scale
from roadmap.models import Agency, KeyAction, Metric, Phase

VERSION_HELP = (
    "The record's version, raised by every save. On PUT/PATCH send the version you loaded "
    "(or the If-Match header): a stale one is refused with what changed."
)


def scale_from(context: dict) -> Scale:
    # One scale per request, shared by every row: no query per risk.
    if "scale" not in context:
        context["scale"] = rating_scale()
    return context["scale"]


LEVEL_SCHEMA = {
    "type": "object",
    "nullable": True,
    "properties": {
        "level": {"type": "integer", "minimum": MIN_LEVEL, "maximum": MAX_LEVEL},
        "label": {"type": "string", "example": "Medium-High"},
    },
}


class RiskLinksSerializer(serializers.Serializer):
    """Where to read more about the risk: API URLs, and its page's path."""

    self = serializers.CharField(help_text="This risk in the API.")
    page = serializers.CharField(help_text="The risk's page (path).")
    assessments = serializers.CharField(help_text="Its assessments.")
    mitigations = serializers.CharField(help_text="Its mitigations.")
    triggers = serializers.CharField(help_text="Its trigger log entries.")
    indicators = serializers.CharField(help_text="Its key risk indicators.")
    breaches = serializers.CharField(help_text="Its open indicator breaches.")
    history = serializers.CharField(help_text="Its change history.")


class ReviewLinksSerializer(serializers.Serializer):
    """The review in the API, its snapshot, and its page's path."""

    self = serializers.CharField(help_text="This review in the API.")
    snapshots = serializers.CharField(help_text="Its frozen snapshot.")
    page = serializers.CharField(help_text="Its page (path).")


@extend_schema_field(LEVEL_SCHEMA)
class LevelField(serializers.Field):
    """A level as `{"level": 4, "label": "Medium-High"}`."""

    csv_subfields = ("level", "label")

    def __init__(self, axis: str, **kwargs):
        self.axis = axis
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        return {"level": value, "label": scale_from(self.context).label(self.axis, value)}


_DATETIME, _DATE = serializers.DateTimeField(), serializers.DateField()


def _datetime(value):
    return _DATETIME.to_representation(value) if value is not None else None


def _date(value):
    return _DATE.to_representation(value) if value is not None else None


class RiskSerializer(serializers.ModelSerializer):
    owner_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Read through RiskFacts, so a row of the register as of a past day gives its own links.
    supporting_agencies = serializers.SerializerMethodField(help_text="Agency codes.")
    phases = serializers.SerializerMethodField(help_text="Phase numbers.")
    key_actions = serializers.SerializerMethodField(help_text="Key action ids.")
    likelihood = LevelField(Axis.LIKELIHOOD)
    impact = LevelField(Axis.IMPACT)
    target_likelihood = LevelField(Axis.LIKELIHOOD)
    target_impact = LevelField(Axis.IMPACT)
    inherent_likelihood = LevelField(Axis.LIKELIHOOD)
    inherent_impact = LevelField(Axis.IMPACT)
    rating = serializers.SerializerMethodField()
    above_appetite = serializers.SerializerMethodField()
    review_overdue = serializers.SerializerMethodField()
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    open_breaches = serializers.SerializerMethodField(
        help_text="Indicator breaches flagging this risk for trigger review (not yet resolved)."
    )
    links = serializers.SerializerMethodField()

    class Meta:
        model = Risk
        # The register's columns, defined once (risks/columns.py), as JSON fields.
        fields = list(columns.API_FIELDS)

    def to_representation(self, risk) -> dict:
        """The fields above, written out: DRF's generic walk (a lookup and a call per field
        per row) was most of a 100-risk page. tests/api/test_risk_representation.py holds
        this to what the declared fields give, field for field."""
        scale = scale_from(self.context)
        band = scale.band_for(risk.score)

        def level(axis: str, value: int | None) -> dict | None:
            return None if value is None else {"level": value, "label": scale.label(axis, value)}

        L, I = Axis.LIKELIHOOD, Axis.IMPACT  # noqa: E741
        return {
            "code": risk.code,
            "title": risk.title,
            "statement": risk.statement,
            "category": risk.category,
            "status": risk.status,
            "owner": risk.owner,
            "owner_agency": risk.owner_agency.code if risk.owner_agency_id else None,
            "supporting_agencies": self.get_supporting_agencies(risk),
            "phases": self.get_phases(risk),
            "key_actions": self.get_key_actions(risk),
            "likelihood": level(L, risk.likelihood),
            "impact": level(I, risk.impact),
            "score": risk.score,
            "rating": band.name if band else None,
            "above_appetite": rules.above_appetite(risk.score, scale.appetite_score),
            "confidence": risk.confidence,
            "last_assessed_at": _datetime(risk.last_assessed_at),
            "inherent_likelihood": level(L, risk.inherent_likelihood),
            "inherent_impact": level(I, risk.inherent_impact),
            "target_likelihood": level(L, risk.target_likelihood),
            "target_impact": level(I, risk.target_impact),
            "target_score": risk.target_score,
            "response": risk.response,
            "mitigation_strategy": risk.mitigation_strategy,
            "contingency_plan": risk.contingency_plan,
            "trigger_conditions": risk.trigger_conditions,
            "review_frequency_days": risk.review_frequency_days,
            "next_review_due": _date(risk.next_review_due),
            "review_overdue": self.get_review_overdue(risk),
            "closure_reason": risk.closure_reason,
            "closed_by": risk.closed_by.username if risk.closed_by_id else None,
            "closed_at": _datetime(risk.closed_at),
            "open_breaches": self.get_open_breaches(risk),
            "created_at": _datetime(risk.created_at),
            "updated_at": _datetime(risk.updated_at),
            "version": risk.version,
            "links": self.get_links(risk),
        }

    def get_rating(self, risk: Risk) -> str | None:
        band = scale_from(self.context).band_for(risk.score)
        return band.name if band else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_supporting_agencies(self, risk: Risk) -> list[str]:
        return [agency.code for agency in risk.supporting_agency_list]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_phases(self, risk: Risk) -> list[int]:
        return [phase.number for phase in risk.phase_list]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_key_actions(self, risk: Risk) -> list[int]:
        return [action.pk for action in risk.key_action_list]

    def get_above_appetite(self, risk: Risk) -> bool | None:
        return rules.above_appetite(risk.score, scale_from(self.context).appetite_score)

    def get_review_overdue(self, risk: Risk) -> bool:
        on = self.context.get("as_of") or timezone.localdate()
        return rules.is_overdue(next_review_due=risk.next_review_due, status=risk.status, on=on)

    def get_open_breaches(self, risk: Risk) -> int:
        count = getattr(risk, "open_breach_count", None)
        if count is None:  # a risk not read through the API's queryset
            count = IndicatorBreach.objects.filter(
                indicator__risk=risk, status=IndicatorBreach.Status.OPEN
            ).count()
        return count

    @extend_schema_field(RiskLinksSerializer)
    def get_links(self, risk: Risk) -> dict[str, str]:
        # Reversing eight URLs per row was a third of a 100-risk page: do it once a request.
        if "link_bases" not in self.context:
            request = self.context.get("request")
            self.context["link_bases"] = {
                name: reverse(f"api:{name}-list", request=request)
                for name in (
                    "risk",
                    "assessment",
                    "mitigationaction",
                    "triggerentry",
                    "indicator",
                    "indicatorbreach",
                    "history",
                )
            }
        bases = self.context["link_bases"]
        query = f"?risk={risk.code}"
        return {
            "self": f"{bases['risk']}{risk.code}/",
            "page": f"/risks/{risk.code}/",
            "assessments": bases["assessment"] + query,
            "mitigations": bases["mitigationaction"] + query,
            "triggers": bases["triggerentry"] + query,
            "indicators": bases["indicator"] + query,
            "breaches": bases["indicatorbreach"] + query + "&status=open",
            "history": bases["history"] + query + "&model=risk",
        }


RERATE = "Change the current rating by posting an assessment to /api/v1/assessments/."


class RiskWriteSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    """What Staff send to create or change a risk. A rating change is an assessment."""

    field_hints = {
        "next_review_due": "Derived, never written: it follows from the last assessment and "
        "review_frequency_days (or the band's interval).",
        "score": "Derived: likelihood x impact. " + RERATE,
        "closed_at": "Set by closing the risk (Close risk in the admin, with a reason).",
    }

    owner_agency = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all())
    supporting_agencies = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Agency.objects.all(), required=False
    )
    phases = serializers.SlugRelatedField(
        slug_field="number", many=True, queryset=Phase.objects.all(), required=False
    )
    key_actions = serializers.PrimaryKeyRelatedField(
        many=True, queryset=KeyAction.objects.all(), required=False
    )
    rationale = serializers.CharField(
        write_only=True, required=False, help_text="Why the first rating is what it is."
    )
    confidence = serializers.ChoiceField(choices=Confidence.choices, required=False)
    status = serializers.ChoiceField(
        choices=[(s, s.label) for s in (Risk.Status.OPEN, Risk.Status.MONITORING)],
        required=False,
        help_text="open or monitoring; closing and contingencies have their own endpoints.",
    )
    version = serializers.IntegerField(
        write_only=True, required=False, min_value=1, help_text=VERSION_HELP
    )

    class Meta:
        model = Risk
        fields = [
            "code",
            "title",
            "statement",
            "category",
            "status",
            "owner",
            "owner_agency",
            "supporting_agencies",
            "phases",
            "key_actions",
            "likelihood",
            "impact",
            "confidence",
            "rationale",
            "inherent_likelihood",
            "inherent_impact",
            "target_likelihood",
            "target_impact",
            "response",
            "mitigation_strategy",
            "contingency_plan",
            "trigger_conditions",
            "review_frequency_days",
            "version",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new risk's first rating is an assessment, and every assessment has a rationale.
        self.fields["rationale"].required = self.instance is None

    def validate(self, attrs):
        if self.instance is None:
            return attrs
        errors = {}
        for field in ("code", "likelihood", "impact"):
            if field in attrs and attrs[field] != getattr(self.instance, field):
                errors[field] = "Risk codes never change." if field == "code" else RERATE
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AssessmentSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    risk = serializers.SlugRelatedField(slug_field="code", queryset=Risk.objects.all())
    assessed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    likelihood = serializers.IntegerField(min_value=MIN_LEVEL, max_value=MAX_LEVEL)
    impact = serializers.IntegerField(min_value=MIN_LEVEL, max_value=MAX_LEVEL)
    confidence = serializers.ChoiceField(choices=Confidence.choices, default=Confidence.MEDIUM)
    rationale = serializers.CharField(max_length=5000)
    score = serializers.IntegerField(read_only=True)
    previous_likelihood = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The risk's previous assessment; null if none."
    )
    previous_impact = serializers.IntegerField(read_only=True, allow_null=True)
    previous_score = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "risk",
            "assessed_at",
            "assessed_by",
            "likelihood",
            "impact",
            "score",
            "previous_likelihood",
            "previous_impact",
            "previous_score",
            "confidence",
            "rationale",
        ]
        read_only_fields = ["id", "assessed_at", "assessed_by"]


class MitigationSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    risk = serializers.SlugRelatedField(slug_field="code", queryset=Risk.objects.all())
    owner_agency = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all())
    key_action = serializers.PrimaryKeyRelatedField(
        queryset=KeyAction.objects.all(), required=False, allow_null=True
    )
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)

    class Meta:
        model = MitigationAction
        fields = [
            "id",
            "risk",
            "title",
            "description",
            "owner_agency",
            "key_action",
            "due_date",
            "status",
            "percent_complete",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class HeatCellSerializer(serializers.Serializer):
    likelihood = serializers.IntegerField()
    impact = serializers.IntegerField()
    score = serializers.IntegerField()
    count = serializers.IntegerField()
    risks = serializers.ListField(child=serializers.CharField())
    more = serializers.IntegerField(help_text="Risks in the cell beyond those listed.")
    band = serializers.CharField(source="band.name", allow_null=True)
    above_appetite = serializers.BooleanField()


class BandSerializer(serializers.Serializer):
    """A rating band of the scale: scores from `min_score` to `max_score` inclusive."""

    name = serializers.CharField()
    min_score = serializers.IntegerField()
    max_score = serializers.IntegerField()
    colour = serializers.CharField()


class HeatmapSerializer(serializers.Serializer):
    basis = serializers.CharField()
    as_of = serializers.DateField(allow_null=True)
    total = serializers.IntegerField()
    likelihood_labels = serializers.DictField(
        child=serializers.CharField(), help_text='Level to label, e.g. {"4": "Medium-High"}.'
    )
    impact_labels = serializers.DictField(
        child=serializers.CharField(), help_text="Level to label."
    )
    appetite = serializers.IntegerField(allow_null=True)
    bands = BandSerializer(many=True)
    cells = HeatCellSerializer(many=True)

    @staticmethod
    def from_heatmap(heatmap, *, as_of=None) -> dict:
        scale = heatmap.scale
        return HeatmapSerializer(
            {
                "basis": heatmap.basis,
                "as_of": as_of,
                "total": heatmap.total,
                "likelihood_labels": {str(k): v for k, v in scale.likelihood_labels.items()},
                "impact_labels": {str(k): v for k, v in scale.impact_labels.items()},
                "appetite": scale.appetite_score,
                "bands": [
                    {
                        "name": b.name,
                        "min_score": b.min_score,
                        "max_score": b.max_score,
                        "colour": b.colour,
                    }
                    for b in scale.bands
                ],
                "cells": heatmap.cells,
            }
        ).data


# --- Contingencies and the trigger log ------------------------------------------------------


class ContingencySerializer(RefuseUnknownFields, serializers.Serializer):
    """What Staff send to invoke, update or stand down a contingency."""

    reason = serializers.CharField(max_length=10000, help_text="Why: the trigger condition met.")
    evidence = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    actions_taken = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    authorised_by = serializers.CharField(
        max_length=TriggerEntry._meta.get_field("authorised_by").max_length,
        required=False,
        allow_blank=True,
        help_text="Who authorised it (name and role).",
    )


# Risk statuses outside the risk itself are plain strings in the schema: one choice set under
# several names (or in several components) makes drf-spectacular's enum naming ambiguous.
RISK_STATUS_HELP = "A risk status: " + ", ".join(Risk.Status.values) + "."


class TriggerCheckpointSerializer(serializers.ModelSerializer):
    """A signed head of the trigger log (README, "For auditors", gives the signed text)."""

    class Meta:
        model = TriggerCheckpoint
        fields = ["origin", "sequence", "entry_hash", "signed_at", "key_id", "signature"]
        read_only_fields = fields
        extra_kwargs = {
            "signature": {"help_text": "Ed25519 signature of the checkpoint text, base64."},
            "key_id": {"help_text": "First 8 bytes of SHA-256 of the raw public key, hex."},
        }


class TriggerEntrySerializer(serializers.ModelSerializer):
    # As stored on the entry when it was recorded: what its hash covers.
    risk = serializers.CharField(
        source="risk_code", read_only=True, help_text="The risk's code when recorded."
    )
    recorded_by = serializers.CharField(
        source="recorded_by_username",
        read_only=True,
        help_text="The recorder's username when recorded.",
    )
    previous_status = serializers.CharField(
        read_only=True, help_text="The risk's status before this entry. " + RISK_STATUS_HELP
    )
    checkpoint = TriggerCheckpointSerializer(
        read_only=True, help_text="The log's head as signed when this entry was appended."
    )

    class Meta:
        model = TriggerEntry
        fields = [
            "sequence",
            "kind",
            "risk",
            "recorded_at",
            "recorded_by",
            "reason",
            "evidence",
            "actions_taken",
            "authorised_by",
            "previous_status",
            "prev_hash",
            "entry_hash",
            "checkpoint",
        ]
        read_only_fields = fields


class ContingencyEntrySerializer(TriggerEntrySerializer):
    """The entry just written, with the status it left the risk in."""

    risk_status = serializers.CharField(
        source="risk.status", read_only=True, help_text="Its status now. " + RISK_STATUS_HELP
    )

    class Meta(TriggerEntrySerializer.Meta):
        fields = [*TriggerEntrySerializer.Meta.fields, "risk_status"]
        read_only_fields = fields


class ChainReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="True when every link and the chain head hold.")
    checked = serializers.IntegerField(help_text="Entries verified before the first bad one.")
    message = serializers.CharField()
    head_hash = serializers.CharField(
        help_text="The last entry's hash when intact: compare it with the one kept outside."
    )
    first_bad_sequence = serializers.IntegerField(allow_null=True)
    key_id = serializers.CharField(help_text="The public key the signatures were checked with.")
    reviews_checked = serializers.IntegerField(
        help_text="Finalised board reviews whose anchor (signed head) the chain matched."
    )


# --- Key risk indicators ----------------------------------------------------------------------


class IndicatorSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    risk = serializers.SlugRelatedField(slug_field="code", queryset=Risk.objects.all())
    metric = serializers.PrimaryKeyRelatedField(queryset=Metric.objects.all())
    metric_name = serializers.CharField(source="metric.name", read_only=True)
    open_breaches = serializers.IntegerField(
        source="open_breach_count", read_only=True, help_text="Breaches not yet resolved."
    )

    class Meta:
        model = Indicator
        fields = [
            "id",
            "risk",
            "metric",
            "metric_name",
            "comparison",
            "threshold",
            "applies_from",
            "description",
            "active",
            "open_breaches",
        ]
        read_only_fields = ["id"]


class BreachReadingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    observed_on = serializers.DateField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2)
    source = serializers.CharField()


class BreachSerializer(serializers.ModelSerializer):
    risk = serializers.SlugRelatedField(source="indicator.risk", slug_field="code", read_only=True)
    metric = serializers.IntegerField(source="indicator.metric_id", read_only=True)
    metric_name = serializers.CharField(source="indicator.metric.name", read_only=True)
    comparison = serializers.CharField(source="indicator.comparison", read_only=True)
    threshold = serializers.DecimalField(
        source="indicator.threshold", max_digits=14, decimal_places=2, read_only=True
    )
    reading = BreachReadingSerializer(read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IndicatorBreach
        fields = [
            "id",
            "indicator",
            "risk",
            "metric",
            "metric_name",
            "comparison",
            "threshold",
            "reading",
            "detected_at",
            "status",
            "resolved_by",
            "resolved_at",
            "resolution_reason",
        ]
        read_only_fields = fields


class BreachDismissSerializer(RefuseUnknownFields, serializers.Serializer):
    reason = serializers.CharField(max_length=10000, help_text="Why the flag is cleared.")


# --- Quarterly board reviews ------------------------------------------------------------------


class ReviewSnapshotSerializer(serializers.ModelSerializer):
    risk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    likelihood = LevelField(Axis.LIKELIHOOD)
    impact = LevelField(Axis.IMPACT)
    target_likelihood = LevelField(Axis.LIKELIHOOD)
    target_impact = LevelField(Axis.IMPACT)
    rating = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True, help_text=RISK_STATUS_HELP)

    class Meta:
        model = ReviewSnapshot
        fields = [
            "risk",
            "likelihood",
            "impact",
            "score",
            "rating",
            "target_likelihood",
            "target_impact",
            "status",
            "confidence",
            "next_review_due",
        ]
        read_only_fields = fields

    def get_rating(self, snapshot: ReviewSnapshot) -> str | None:
        band = scale_from(self.context).band_for(snapshot.score)
        return band.name if band else None


class RiskAcceptanceSerializer(serializers.ModelSerializer):
    risk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RiskAcceptance
        fields = ["id", "risk", "accepted_by", "accepted_on", "rationale", "expires_on"]
        read_only_fields = fields


class BoardReviewSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    finalised_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    snapshot_count = serializers.IntegerField(
        read_only=True, help_text="Open risks frozen when the review was finalised."
    )
    acceptances = RiskAcceptanceSerializer(many=True, read_only=True)
    trigger_log_anchor = TriggerCheckpointSerializer(
        read_only=True,
        allow_null=True,
        help_text="The trigger log's head, signed when the review was finalised (null: draft).",
    )
    links = serializers.SerializerMethodField()
    csv_subfields = {"links": ("self", "snapshots", "page")}

    class Meta:
        model = BoardReview
        fields = [
            "quarter",
            "meeting_date",
            "status",
            "attendees",
            "decisions",
            "created_by",
            "created_at",
            "finalised_by",
            "finalised_at",
            "snapshot_count",
            "acceptances",
            "trigger_log_anchor",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(ReviewLinksSerializer)
    def get_links(self, review: BoardReview) -> dict[str, str]:
        request = self.context.get("request")
        kwargs = {"quarter": review.quarter}
        return {
            "self": reverse("api:boardreview-detail", kwargs=kwargs, request=request),
            "snapshots": reverse("api:boardreview-snapshots", kwargs=kwargs, request=request),
            "page": f"/reviews/{review.quarter}/",
        }


# --- Change history -----------------------------------------------------------------------------


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryRecordSerializer(serializers.Serializer):
    """One saved state of a record (django-simple-history), with what changed from the one
    before it. Foreign keys appear by id, as stored."""

    model = serializers.SerializerMethodField(help_text="e.g. risk, mitigation, key_action.")
    object_id = serializers.IntegerField(source="id", help_text="The record's id.")
    object_repr = serializers.SerializerMethodField(help_text="The record as it read then.")
    risk = serializers.CharField(
        source="risk_code", default=None, allow_null=True, help_text="Its risk's code, if any."
    )
    history_id = serializers.IntegerField()
    history_date = serializers.DateTimeField()
    history_type = serializers.ChoiceField(
        choices=[("+", "created"), ("~", "changed"), ("-", "deleted")]
    )
    change_reason = serializers.CharField(
        source="history_change_reason",
        allow_null=True,
        help_text="Why: the service that saved it (e.g. risk_update), `Assessment #N: "
        "<rationale>`, or the trigger log entry that changed the status.",
    )
    user = serializers.CharField(
        source="history_user.username", default=None, allow_null=True, help_text="Who saved it."
    )
    changes = HistoryChangeSerializer(many=True, help_text="Field, old value, new value.")

    def get_model(self, record) -> str:
        return record.model_name

    def get_object_repr(self, record) -> str:
        return TRACKED[record.model_name].describe(record)
