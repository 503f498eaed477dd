from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from risks.models import MAX_LEVEL, MIN_LEVEL, Assessment, Axis, Confidence, MitigationAction, Risk
from risks.selectors import Scale, rating_scale
from roadmap.models import Agency, KeyAction, Phase


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


@extend_schema_field(LEVEL_SCHEMA)
class LevelField(serializers.Field):
    """A level as `{"level": 4, "label": "Medium-High"}`."""

    def __init__(self, axis: str, **kwargs):
        self.axis = axis
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        return {"level": value, "label": scale_from(self.context).label(self.axis, value)}


class RiskSerializer(serializers.ModelSerializer):
    owner_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    supporting_agencies = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    phases = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    key_actions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
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
    links = serializers.SerializerMethodField()

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
            "score",
            "rating",
            "above_appetite",
            "confidence",
            "last_assessed_at",
            "inherent_likelihood",
            "inherent_impact",
            "target_likelihood",
            "target_impact",
            "target_score",
            "response",
            "mitigation_strategy",
            "contingency_plan",
            "trigger_conditions",
            "review_frequency_days",
            "next_review_due",
            "review_overdue",
            "closure_reason",
            "closed_by",
            "closed_at",
            "created_at",
            "updated_at",
            "links",
        ]

    def to_representation(self, risk: Risk) -> dict:
        data = super().to_representation(risk)
        if getattr(risk, "as_of_likelihood", None) is not None:
            # ?as_of=: the rating as it stood then, from the assessments.
            scale = scale_from(self.context)
            likelihood, impact = risk.as_of_likelihood, risk.as_of_impact
            band = scale.band_for(likelihood * impact)
            data["likelihood"] = {
                "level": likelihood,
                "label": scale.label(Axis.LIKELIHOOD, likelihood),
            }
            data["impact"] = {"level": impact, "label": scale.label(Axis.IMPACT, impact)}
            data["score"] = likelihood * impact
            data["rating"] = band.name if band else None
        return data

    def get_rating(self, risk: Risk) -> str | None:
        band = scale_from(self.context).band_for(risk.score)
        return band.name if band else None

    def get_above_appetite(self, risk: Risk) -> bool | None:
        appetite = scale_from(self.context).appetite_score
        return None if appetite is None else risk.score > appetite

    def get_review_overdue(self, risk: Risk) -> bool:
        return (
            risk.status != Risk.Status.CLOSED
            and risk.next_review_due is not None
            and risk.next_review_due < timezone.localdate()
        )

    def get_links(self, risk: Risk) -> dict[str, str]:
        request = self.context.get("request")
        query = f"?risk={risk.code}"
        return {
            "self": reverse("api:risk-detail", kwargs={"code": risk.code}, request=request),
            "page": f"/risks/{risk.code}/",
            "assessments": reverse("api:assessment-list", request=request) + query,
            "mitigations": reverse("api:mitigationaction-list", request=request) + query,
        }


RERATE = "Change the current rating by posting an assessment to /api/v1/assessments/."


class RiskWriteSerializer(serializers.ModelSerializer):
    """What Staff send to create or change a risk. A rating change is an assessment."""

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


class AssessmentSerializer(serializers.ModelSerializer):
    risk = serializers.SlugRelatedField(slug_field="code", queryset=Risk.objects.all())
    assessed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    likelihood = serializers.IntegerField(min_value=MIN_LEVEL, max_value=MAX_LEVEL)
    impact = serializers.IntegerField(min_value=MIN_LEVEL, max_value=MAX_LEVEL)
    confidence = serializers.ChoiceField(choices=Confidence.choices, default=Confidence.MEDIUM)
    rationale = serializers.CharField(max_length=5000)
    score = serializers.IntegerField(read_only=True)

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
            "confidence",
            "rationale",
        ]
        read_only_fields = ["id", "assessed_at", "assessed_by"]


class MitigationSerializer(serializers.ModelSerializer):
    risk = serializers.SlugRelatedField(slug_field="code", queryset=Risk.objects.all())
    owner_agency = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all())
    key_action = serializers.PrimaryKeyRelatedField(
        queryset=KeyAction.objects.all(), required=False, allow_null=True
    )

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


class HeatmapSerializer(serializers.Serializer):
    basis = serializers.CharField()
    as_of = serializers.DateField(allow_null=True)
    total = serializers.IntegerField()
    likelihood_labels = serializers.DictField(child=serializers.CharField())
    impact_labels = serializers.DictField(child=serializers.CharField())
    appetite = serializers.IntegerField(allow_null=True)
    bands = serializers.ListField(child=serializers.DictField())
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
