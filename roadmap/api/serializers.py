from __future__ import annotations

from rest_framework import serializers

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
        ]
