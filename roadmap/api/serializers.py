from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.api import RefuseUnknownFields
from roadmap.models import (
    Agency,
    FundingLine,
    KeyAction,
    Metric,
    MetricReading,
    MetricTarget,
    Phase,
)


class AgencySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Agency
        fields = ["code", "name", "parent"]


class FundingSerializer(serializers.ModelSerializer):
    class Meta:
        model = FundingLine
        fields = [
            "label",
            "estimated_cost",
            "cost_low_usd",
            "cost_high_usd",
            "per_year",
            "funding_source",
            "notes",
        ]


class PhaseSerializer(serializers.ModelSerializer):
    objectives = serializers.SlugRelatedField(slug_field="text", many=True, read_only=True)
    legislative_requirements = serializers.SlugRelatedField(
        slug_field="text", many=True, read_only=True
    )
    funding = FundingSerializer(read_only=True)
    personnel = serializers.SlugRelatedField(slug_field="text", read_only=True)

    class Meta:
        model = Phase
        fields = [
            "number",
            "name",
            "start_year",
            "end_year",
            "summary",
            "objectives",
            "expected_outcomes",
            "legislative_requirements",
            "funding",
            "personnel",
        ]


VERSION_HELP = (
    "The record's version, raised by every save. On PATCH send the version you loaded (or the "
    "If-Match header): a stale one is refused with what changed."
)


class KeyActionSerializer(serializers.ModelSerializer):
    phase = serializers.SlugRelatedField(slug_field="number", read_only=True)
    lead_agencies = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = KeyAction
        fields = [
            "id",
            "phase",
            "title",
            "lead_actor",
            "lead_agencies",
            "timeline",
            "start_month",
            "end_month",
            "resources_needed",
            "cost_low_usd",
            "cost_high_usd",
            "cost_per_year",
            "success_metric",
            "status",
            "version",
        ]


# Named like the read side, so the schema's request body is PatchedKeyActionRequest and the
# status choices are one enum.
@extend_schema_serializer(component_name="KeyAction")
class KeyActionWriteSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    """What Staff may change on a key action (its phase and place in the plan stay)."""

    lead_agencies = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Agency.objects.all(), required=False
    )
    version = serializers.IntegerField(
        write_only=True, required=False, min_value=1, help_text=VERSION_HELP
    )

    class Meta:
        model = KeyAction
        fields = [
            "title",
            "lead_actor",
            "lead_agencies",
            "timeline",
            "start_month",
            "end_month",
            "resources_needed",
            "cost_low_usd",
            "cost_high_usd",
            "cost_per_year",
            "success_metric",
            "status",
            "version",
        ]


class MetricTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricTarget
        fields = ["year", "target", "value_low", "value_high"]


class MetricReadingSerializer(serializers.ModelSerializer):
    metric = serializers.PrimaryKeyRelatedField(read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = MetricReading
        fields = ["id", "metric", "observed_on", "value", "source", "note", "recorded_by"]
        read_only_fields = ["id", "metric", "recorded_by"]


class MetricReadingInputSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    """A reading Staff record; one that crosses an indicator's threshold flags its risk."""

    class Meta:
        model = MetricReading
        fields = ["observed_on", "value", "source", "note"]
        # The service checks one reading per metric, day and source (metric is in the URL).
        validators = []


class RecordedReadingSerializer(MetricReadingSerializer):
    flagged_risks = serializers.SerializerMethodField(
        help_text="Codes of the risks this reading flagged (an indicator breach each)."
    )

    class Meta(MetricReadingSerializer.Meta):
        fields = [*MetricReadingSerializer.Meta.fields, "flagged_risks"]

    def get_flagged_risks(self, reading: MetricReading) -> list[str]:
        breaches = reading.indicator_breaches.select_related("indicator__risk")
        return sorted({b.indicator.risk.code for b in breaches})


class MetricSerializer(serializers.ModelSerializer):
    targets = MetricTargetSerializer(many=True, read_only=True)
    readings = MetricReadingSerializer(many=True, read_only=True)
    phases = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)

    class Meta:
        model = Metric
        fields = [
            "id",
            "name",
            "unit",
            "milestone_year",
            "direction",
            "baseline",
            "baseline_low",
            "baseline_high",
            "phases",
            "targets",
            "readings",
            "version",
        ]


@extend_schema_serializer(component_name="Metric")
class MetricWriteSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    """What Staff may change on a metric's definition; readings have their own endpoint."""

    phases = serializers.SlugRelatedField(
        slug_field="number", many=True, queryset=Phase.objects.all(), required=False
    )
    version = serializers.IntegerField(
        write_only=True, required=False, min_value=1, help_text=VERSION_HELP
    )

    class Meta:
        model = Metric
        fields = [
            "name",
            "unit",
            "milestone_year",
            "direction",
            "baseline",
            "baseline_low",
            "baseline_high",
            "phases",
            "version",
        ]
