"""The admin for the plan: agencies, phases and what they need, key actions, metrics."""

from __future__ import annotations

from django.contrib import admin

from common.admin import HistoryAdmin, ServiceErrorsMixin, VersionFieldMixin, adopt_saved
from common.forms import VersionedForm
from roadmap.models import (
    Agency,
    FundingLine,
    GovernanceBody,
    InfrastructureRequirement,
    KeyAction,
    LegislativeRequirement,
    Metric,
    MetricReading,
    MetricTarget,
    PersonnelRequirement,
    Phase,
    PhaseObjective,
)
from roadmap.services import (
    key_action_create,
    key_action_update,
    metric_reading_correct,
    metric_reading_record,
    metric_update,
)


def reading_save(reading: MetricReading, *, user) -> MetricReading:
    """New readings go through metric_reading_record, which checks the risk indicators; a
    corrected reading is checked again (a breach already opened for it is not repeated)."""
    if reading.pk is None:
        return metric_reading_record(
            metric=reading.metric,
            observed_on=reading.observed_on,
            value=reading.value,
            source=reading.source,
            note=reading.note,
            user=user,
        )
    return metric_reading_correct(reading=reading, user=user)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    ordering = ("code",)


class ObjectiveInline(admin.TabularInline):
    model = PhaseObjective
    fields = ("position", "text")
    extra = 0


class KeyActionInline(VersionFieldMixin, admin.TabularInline):
    model = KeyAction
    form = VersionedForm
    fields = (
        "position",
        "title",
        "lead_actor",
        "lead_agencies",
        "timeline",
        "start_month",
        "end_month",
        "success_metric",
        "status",
    )
    autocomplete_fields = ("lead_agencies",)
    show_change_link = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lead_agencies")


class LegislativeRequirementInline(admin.TabularInline):
    model = LegislativeRequirement
    fields = ("position", "text", "needs_new_legislation")
    extra = 0


@admin.register(Phase)
class PhaseAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    list_display = ("number", "name", "start_year", "end_year")
    list_display_links = ("number", "name")
    search_fields = ("name",)
    ordering = ("number",)
    inlines = (ObjectiveInline, KeyActionInline, LegislativeRequirementInline)

    def save_formset(self, request, form, formset, change):
        if formset.model is not KeyAction:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # collects new and changed rows for the log; saves nothing
        row_forms = {id(row.instance): row for row in formset.forms}
        for action, _ in formset.changed_objects:
            row = row_forms[id(action)]
            key_action_update(
                key_action=action,
                user=request.user,
                expected_version=row.version_loaded,
                **row.model_data(),
            )
        formset.new_objects = [
            key_action_create(
                user=request.user, **{**row_forms[id(action)].model_data(), "phase": form.instance}
            )
            for action in formset.new_objects
        ]
        return None


@admin.register(PhaseObjective)
class PhaseObjectiveAdmin(admin.ModelAdmin):
    list_display = ("phase", "position", "__str__")
    list_filter = ("phase",)
    search_fields = ("text",)
    list_select_related = ("phase",)


@admin.register(LegislativeRequirement)
class LegislativeRequirementAdmin(admin.ModelAdmin):
    list_display = ("phase", "position", "__str__", "needs_new_legislation")
    list_filter = ("phase", "needs_new_legislation")
    search_fields = ("text",)
    list_select_related = ("phase",)


@admin.register(PersonnelRequirement)
class PersonnelRequirementAdmin(admin.ModelAdmin):
    list_display = ("__str__", "phase")
    list_select_related = ("phase",)


@admin.register(FundingLine)
class FundingLineAdmin(admin.ModelAdmin):
    list_display = ("label", "phase", "estimated_cost", "per_year", "funding_source", "is_total")
    list_select_related = ("phase",)


@admin.register(InfrastructureRequirement)
class InfrastructureRequirementAdmin(admin.ModelAdmin):
    list_display = ("area", "funded_by")
    search_fields = ("area", "text")
    list_select_related = ("funded_by",)
    autocomplete_fields = ("funded_by",)


@admin.register(GovernanceBody)
class GovernanceBodyAdmin(admin.ModelAdmin):
    list_display = ("name", "meeting_frequency")
    search_fields = ("name", "responsibilities")
    autocomplete_fields = ("agencies",)


@admin.register(KeyAction)
class KeyActionAdmin(VersionFieldMixin, ServiceErrorsMixin, HistoryAdmin):
    form = VersionedForm
    list_display = ("phase", "title", "leads", "timeline", "status")
    list_display_links = ("title",)
    list_filter = ("phase", "status", "lead_agencies")
    search_fields = ("title", "lead_actor", "success_metric")
    list_select_related = ("phase",)
    autocomplete_fields = ("lead_agencies",)
    ordering = ("phase__number", "position")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lead_agencies")

    @admin.display(description="Lead agencies")
    def leads(self, action: KeyAction) -> str:
        return ", ".join(agency.code for agency in action.lead_agencies.all())

    def save_model(self, request, obj, form, change):
        if not change:
            adopt_saved(obj, key_action_create(user=request.user, **form.model_data()))
            return
        key_action_update(
            key_action=obj,
            user=request.user,
            expected_version=form.version_loaded,
            **form.model_data(),
        )

    def save_related(self, request, form, formsets, change):
        # key_action_create and key_action_update have set the lead agencies.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class MetricTargetInline(admin.TabularInline):
    model = MetricTarget
    fields = ("year", "target", "value_low", "value_high")
    extra = 0


class MetricReadingInline(admin.TabularInline):
    model = MetricReading
    fields = ("observed_on", "value", "source", "note", "recorded_by", "recorded_at")
    readonly_fields = ("recorded_by", "recorded_at")
    ordering = ("-observed_on", "-id")
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("metric", "recorded_by")


@admin.register(Metric)
class MetricAdmin(VersionFieldMixin, ServiceErrorsMixin, HistoryAdmin):
    form = VersionedForm
    list_display = ("position", "name", "unit", "milestone_year", "direction", "baseline")
    list_display_links = ("name",)
    list_filter = ("milestone_year", "direction", "phases")
    search_fields = ("name", "unit")
    ordering = ("position", "name")
    filter_horizontal = ("phases",)
    inlines = (MetricTargetInline, MetricReadingInline)

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        metric_update(
            metric=obj,
            user=request.user,
            expected_version=form.version_loaded,
            **form.model_data(),
        )
        return None

    def save_related(self, request, form, formsets, change):
        if not change:  # metric_update has set the phases of a changed metric
            form.save_m2m()
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not MetricReading:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # collects new, changed and deleted rows; saves nothing
        for reading in formset.deleted_objects:
            reading.delete()
        for reading, _ in formset.changed_objects:
            reading_save(reading, user=request.user)
        formset.new_objects = [
            reading_save(reading, user=request.user) for reading in formset.new_objects
        ]
        return None


@admin.register(MetricTarget)
class MetricTargetAdmin(admin.ModelAdmin):
    list_display = ("metric", "year", "target")
    list_filter = ("year",)
    search_fields = ("metric__name",)
    list_select_related = ("metric",)
    autocomplete_fields = ("metric",)


@admin.register(MetricReading)
class MetricReadingAdmin(ServiceErrorsMixin, HistoryAdmin):
    list_display = ("metric", "observed_on", "value", "source", "recorded_by")
    list_filter = ("metric",)
    search_fields = ("metric__name", "source", "note")
    list_select_related = ("metric", "recorded_by")
    autocomplete_fields = ("metric",)
    readonly_fields = ("recorded_by", "recorded_at")
    date_hierarchy = "observed_on"
    ordering = ("-observed_on", "metric")

    def save_model(self, request, obj, form, change):
        saved = reading_save(obj, user=request.user)
        if saved is not obj:
            obj.pk = saved.pk
            obj.refresh_from_db()
