"""The admin the risk staff use every day. Thin: every write of a risk, its rating or its
mitigations goes through risks/services.py, so the admin and the API obey the same rules."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from risks.forms import (
    RATING_FIELDS,
    WORKFLOW_STATUSES,
    BreachDismissForm,
    MitigationAdminForm,
    RiskAdminForm,
    TriggerEntryAdminForm,
)
from risks.models import (
    Assessment,
    BoardReview,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    RatingBand,
    RatingLevel,
    ReviewSnapshot,
    Risk,
    RiskAcceptance,
    RiskAppetite,
    TriggerChainHead,
    TriggerEntry,
)
from risks.selectors import Scale, rating_scale
from risks.services import (
    contingency_invoke,
    contingency_stand_down,
    contingency_update,
    indicator_breach_dismiss,
    indicator_create,
    indicator_update,
    mitigation_create,
    mitigation_update,
    risk_assess,
    risk_create,
    risk_update,
)

OVERDUE = '{} <strong style="color:#b50909">overdue</strong>'


def scale_for(request: HttpRequest) -> Scale:
    """The rating scale, read once per request however many rows and filters need it."""
    if not hasattr(request, "_rating_scale"):
        request._rating_scale = rating_scale()
    return request._rating_scale


def rating_badge(scale: Scale, score: int | None) -> str:
    band = scale.band_for(score)
    if band is None:
        return "Not rated"
    # The band's name is always written out: colour alone says nothing to some readers.
    return format_html(
        '<span style="background:{};color:{};padding:1px 6px;border-radius:3px">{}</span>',
        band.colour,
        band.text_colour,
        band.name,
    )


def due_date_display(due, *, done: bool) -> str:
    if due is None:
        return "-"
    if not done and due < timezone.localdate():
        return format_html(OVERDUE, due.isoformat())
    return due.isoformat()


def _values(instance: Model, names) -> dict:
    return {name: getattr(instance, name) for name in names}


def _form_values(instance: Model, form) -> dict:
    """The model fields the (bound or class) form edits, as the service's keyword arguments."""
    model_fields = {field.name for field in instance._meta.fields}
    return _values(instance, [name for name in form.base_fields if name in model_fields])


def _adopt(obj: Model, saved: Model) -> None:
    """Point the admin's unsaved object at the row a service created, for the log and redirect."""
    obj.pk = saved.pk
    obj.refresh_from_db()


class ServiceErrorsMixin:
    """The services hold rules the forms do not (a closed risk is not re-assessed, a mitigation
    is not due before its risk existed). They run after the form validated, where an error
    would be a server error; instead the save rolls back and the form comes back with the
    service's message on it."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            if request.method != "POST" or hasattr(request, "_service_error"):
                raise
            request._service_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class

        class WithServiceError(form_class):
            def clean(self):
                cleaned = super().clean()
                errors = error.message_dict if hasattr(error, "error_dict") else {None: error}
                for field, messages in errors.items():
                    self.add_error(field if field in self.fields else None, messages)
                return cleaned

        return WithServiceError


class SuperuserOnlyEditsMixin:
    """The rating scale is the board's: staff read it, administrators change it."""

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class VersionFieldMixin:
    """Puts the hidden `expected_version` on forms of records the user may change: a save
    based on an out-of-date page is then refused by the service instead of overwriting."""

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name != "expected_version"]
        if self.has_change_permission(request, obj):
            fields.append("expected_version")
        return fields


class RatingBandFilter(admin.SimpleListFilter):
    title = "rating"
    parameter_name = "rating"

    def lookups(self, request, model_admin):
        return [(band.name, str(band)) for band in scale_for(request).bands]

    def queryset(self, request, queryset):
        if self.value() is None:
            return None
        band = next((b for b in scale_for(request).bands if b.name == self.value()), None)
        if band is None:
            return queryset.none()
        return queryset.filter(score__gte=band.min_score, score__lte=band.max_score)


class AssessmentInline(admin.TabularInline):
    """The rating's history. Assessments are only ever made by risk_assess."""

    model = Assessment
    fields = (
        "assessed_at",
        "assessed_by",
        "likelihood",
        "impact",
        "score",
        "confidence",
        "rationale",
    )
    readonly_fields = fields
    ordering = ("-assessed_at", "-id")
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assessed_by")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MitigationInline(VersionFieldMixin, admin.TabularInline):
    model = MitigationAction
    form = MitigationAdminForm
    fields = ("title", "owner_agency", "key_action", "due_date", "status", "percent_complete")
    autocomplete_fields = ("owner_agency", "key_action")
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("risk", "owner_agency", "key_action")


@admin.register(Risk)
class RiskAdmin(ServiceErrorsMixin, SimpleHistoryAdmin):
    form = RiskAdminForm
    list_filter = (
        "phases",
        "owner_agency",
        "category",
        "status",
        RatingBandFilter,
        "confidence",
    )
    search_fields = ("code", "title", "owner", "statement")
    ordering = ("-score", "code")
    list_select_related = ("owner_agency",)
    autocomplete_fields = ("owner_agency", "supporting_agencies", "key_actions")
    filter_horizontal = ("phases",)
    inlines = (AssessmentInline, MitigationInline)
    list_per_page = 50

    def get_inlines(self, request, obj):
        # A new risk has no assessments to show: risk_create records its first one.
        return self.inlines if obj is not None else (MitigationInline,)

    def get_list_display(self, request):
        return (
            "code",
            "title",
            "owner",
            "owner_agency",
            "score",
            self.rating_column(request),
            "status",
            "next_review",
        )

    def rating_column(self, request):
        """A column bound to this request's scale; the same object on every call, as the
        changelist recognises sortable columns by identity."""
        if not hasattr(request, "_rating_column"):
            scale = scale_for(request)

            @admin.display(description="Rating", ordering="score")
            def rating(risk: Risk) -> str:
                return rating_badge(scale, risk.score)

            request._rating_column = rating
        return request._rating_column

    def get_list_display_links(self, request, list_display):
        return ("code", "title")

    @admin.display(description="Next review", ordering="next_review_due")
    def next_review(self, risk: Risk) -> str:
        return due_date_display(risk.next_review_due, done=risk.status == Risk.Status.CLOSED)

    @admin.display(description="Contingency")
    def trigger_log(self, risk: Risk) -> str:
        # Invoking, updating and standing down are trigger log entries, made by their services.
        return format_html(
            '<a href="{}?risk={}">Record a trigger log entry</a> | <a href="{}?risk__id__exact={}">'
            "Trigger log for {}</a>",
            reverse("admin:risks_triggerentry_add"),
            risk.pk,
            reverse("admin:risks_triggerentry_changelist"),
            risk.pk,
            risk.code,
        )

    def get_fieldsets(self, request, obj=None):
        rating = ["likelihood", "impact", "confidence"]
        if obj is None or (
            obj.status != Risk.Status.CLOSED and self.has_change_permission(request, obj)
        ):
            rating.append("rationale")
        if obj is not None:
            rating += ["score", "last_assessed_at"]
        fieldsets = [
            (
                None,
                {
                    "fields": (
                        "code",
                        "title",
                        "statement",
                        "category",
                        ("owner", "owner_agency"),
                        "supporting_agencies",
                        "phases",
                        "key_actions",
                    )
                },
            ),
            ("Current rating", {"fields": rating}),
            (
                "Inherent and target rating",
                {
                    "fields": (
                        ("inherent_likelihood", "inherent_impact"),
                        ("target_likelihood", "target_impact"),
                    )
                },
            ),
            (
                "Response",
                {
                    "fields": (
                        "response",
                        "mitigation_strategy",
                        "contingency_plan",
                        "trigger_conditions",
                    )
                },
            ),
            (
                "Status and review",
                {"fields": ("status", "review_frequency_days", "next_review_due")},
            ),
        ]
        if obj is not None:
            if self.has_change_permission(request, obj):
                fieldsets[0][1]["fields"] += ("expected_version",)
            fieldsets[-1][1]["fields"] += ("trigger_log",)
            fieldsets.append(
                (
                    "Closure",
                    {
                        "classes": ("collapse",),
                        "fields": ("closure_reason", "closed_by", "closed_at"),
                    },
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "score",
            "last_assessed_at",
            "closure_reason",
            "closed_by",
            "closed_at",
            "trigger_log",
        ]
        if obj is not None and obj.status in WORKFLOW_STATUSES:
            readonly.append("status")
        if obj is not None and obj.status == Risk.Status.CLOSED:
            readonly += RATING_FIELDS
        return readonly

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            risk = risk_create(
                user=request.user,
                rationale=data["rationale"],
                confidence=data["confidence"],
                likelihood=data["likelihood"],
                impact=data["impact"],
                **form.descriptive_data(),
            )
        else:
            # The stored risk, not the form's copy: only risk_assess may write the rating.
            risk = Risk.objects.get(pk=obj.pk)
            expected = form.version_loaded
            if set(form.changed_data) - {*RATING_FIELDS, "rationale", "expected_version"}:
                risk_update(
                    risk=risk,
                    user=request.user,
                    expected_version=expected,
                    **form.descriptive_data(),
                )
                expected = risk.version  # this save's own version, for the assessment below
            if "rationale" in data and form.needs_assessment:
                risk_assess(
                    risk=risk,
                    likelihood=data["likelihood"],
                    impact=data["impact"],
                    confidence=data["confidence"],
                    rationale=data["rationale"],
                    user=request.user,
                    expected_version=expected,
                )
        _adopt(obj, risk)

    def save_related(self, request, form, formsets, change):
        # risk_create and risk_update have already set the many-to-many fields.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not MitigationAction:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # collects new and changed rows for the log; saves nothing
        row_forms = {id(row.instance): row for row in formset.forms}
        for mitigation, _ in formset.changed_objects:
            row = row_forms[id(mitigation)]
            mitigation_update(
                mitigation=mitigation,
                user=request.user,
                expected_version=row.version_loaded,
                **row.model_data(),
            )
        formset.new_objects = [
            mitigation_create(
                user=request.user,
                **{**row_forms[id(mitigation)].model_data(), "risk": form.instance},
            )
            for mitigation in formset.new_objects
        ]
        return None


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    """Read-only: a rating changes only through the risk's form (risk_assess)."""

    list_display = (
        "risk",
        "assessed_at",
        "assessed_by",
        "likelihood",
        "impact",
        "score",
        "confidence",
    )
    list_filter = ("confidence", "risk__status", "assessed_by")
    search_fields = ("risk__code", "risk__title", "rationale")
    list_select_related = ("risk", "assessed_by")
    date_hierarchy = "assessed_at"
    ordering = ("-assessed_at", "-id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(MitigationAction)
class MitigationActionAdmin(VersionFieldMixin, ServiceErrorsMixin, SimpleHistoryAdmin):
    form = MitigationAdminForm
    list_display = (
        "risk_code",
        "title",
        "owner_agency",
        "due",
        "status",
        "percent_complete",
    )
    list_filter = ("status", "owner_agency", "risk")
    search_fields = ("title", "description", "risk__code", "risk__title")
    list_select_related = ("risk", "owner_agency")
    autocomplete_fields = ("risk", "owner_agency", "key_action")
    readonly_fields = ("created_at", "updated_at")
    ordering = ("due_date", "id")

    @admin.display(description="Risk", ordering="risk__code")
    def risk_code(self, mitigation: MitigationAction) -> str:
        return mitigation.risk.code

    @admin.display(description="Due", ordering="due_date")
    def due(self, mitigation: MitigationAction) -> str:
        finished = mitigation.status in (
            MitigationAction.Status.DONE,
            MitigationAction.Status.CANCELLED,
        )
        return due_date_display(mitigation.due_date, done=finished)

    def save_model(self, request, obj, form, change):
        if change:
            mitigation_update(
                mitigation=obj,
                user=request.user,
                expected_version=form.version_loaded,
                **form.model_data(),
            )
        else:
            _adopt(obj, mitigation_create(user=request.user, **form.model_data()))


@admin.register(RatingLevel)
class RatingLevelAdmin(SuperuserOnlyEditsMixin, admin.ModelAdmin):
    list_display = ("axis", "level", "label", "definition")
    list_filter = ("axis",)
    ordering = ("axis", "level")


@admin.register(RatingBand)
class RatingBandAdmin(SuperuserOnlyEditsMixin, admin.ModelAdmin):
    list_display = ("name", "min_score", "max_score", "badge", "review_frequency_days")
    ordering = ("min_score",)

    @admin.display(description="Colour")
    def badge(self, band: RatingBand) -> str:
        return format_html(
            '<span style="background:{};color:{};padding:1px 6px;border-radius:3px">{}</span>',
            band.colour,
            band.text_colour,
            band.name,
        )


@admin.register(RiskAppetite)
class RiskAppetiteAdmin(SuperuserOnlyEditsMixin, admin.ModelAdmin):
    list_display = ("effective_from", "max_score", "approved_by")
    ordering = ("-effective_from",)


# --- Contingencies and key risk indicators ---------------------------------------------

CONTINGENCY_WRITES = {
    TriggerEntry.Kind.INVOKED: contingency_invoke,
    TriggerEntry.Kind.UPDATE: contingency_update,
    TriggerEntry.Kind.STOOD_DOWN: contingency_stand_down,
}


@admin.register(TriggerEntry)
class TriggerEntryAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """Append-only: Staff add entries (which invoke, update or stand down a contingency through
    the services that chain them); nobody changes or deletes one."""

    form = TriggerEntryAdminForm
    list_display = ("sequence", "risk", "kind", "recorded_at", "recorded_by", "authorised_by")
    list_display_links = ("sequence", "risk")
    list_filter = ("kind", "recorded_by")
    search_fields = ("risk__code", "risk__title", "reason", "evidence", "authorised_by")
    list_select_related = ("risk", "recorded_by")
    autocomplete_fields = ("risk",)
    ordering = ("-sequence",)
    date_hierarchy = "recorded_at"
    readonly_fields = (
        "sequence",
        "recorded_at",
        "recorded_by",
        "previous_status",
        "prev_hash",
        "entry_hash",
    )

    def get_fields(self, request, obj=None):
        fields = list(TriggerEntryAdminForm._meta.fields)
        return fields if obj is None else [*fields, *self.readonly_fields]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        text = {name: form.cleaned_data[name] for name in form.cleaned_data if name != "kind"}
        _adopt(obj, CONTINGENCY_WRITES[form.cleaned_data["kind"]](user=request.user, **text))


@admin.register(TriggerChainHead)
class TriggerChainHeadAdmin(admin.ModelAdmin):
    """The chain's tail, for administrators who investigate a broken chain; never edited."""

    list_display = ("sequence", "entry_hash", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Indicator)
class IndicatorAdmin(ServiceErrorsMixin, SimpleHistoryAdmin):
    list_display = ("risk", "metric", "comparison", "threshold", "active")
    list_filter = ("active", "comparison", "metric")
    search_fields = ("risk__code", "risk__title", "metric__name", "description")
    list_select_related = ("risk", "metric")
    autocomplete_fields = ("risk", "metric")
    ordering = ("risk__code", "id")

    def save_model(self, request, obj, form, change):
        if change:
            indicator_update(indicator=obj, user=request.user, **_values(obj, form.changed_data))
        else:
            _adopt(obj, indicator_create(user=request.user, **_form_values(obj, form)))


@admin.register(IndicatorBreach)
class IndicatorBreachAdmin(ServiceErrorsMixin, SimpleHistoryAdmin):
    """Breaches come from readings; Staff dismiss an open one with a reason, or invoke the
    risk's contingency (a trigger log entry), which resolves it."""

    form = BreachDismissForm
    list_display = ("risk_code", "indicator", "reading_value", "detected_at", "status")
    list_filter = ("status", "indicator__metric")
    search_fields = ("indicator__risk__code", "indicator__metric__name", "resolution_reason")
    list_select_related = (
        "indicator__risk",
        "indicator__metric",
        "reading__metric",
        "resolved_by",
    )
    ordering = ("-detected_at", "-id")
    fields = (
        "indicator",
        "reading",
        "detected_at",
        "status",
        "resolution_reason",
        "resolved_by",
        "resolved_at",
    )

    @admin.display(description="Risk", ordering="indicator__risk__code")
    def risk_code(self, breach: IndicatorBreach) -> str:
        return breach.indicator.risk.code

    @admin.display(description="Reading")
    def reading_value(self, breach: IndicatorBreach) -> str:
        return f"{breach.reading.value} on {breach.reading.observed_on.isoformat()}"

    def get_readonly_fields(self, request, obj=None):
        readonly = [name for name in self.fields if name != "resolution_reason"]
        if obj is not None and obj.status != IndicatorBreach.Status.OPEN:
            readonly.append("resolution_reason")
        return readonly

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if "resolution_reason" in form.changed_data:
            indicator_breach_dismiss(
                breach=obj, user=request.user, reason=form.cleaned_data["resolution_reason"]
            )
            obj.refresh_from_db()


# --- Board reviews: recorded by the board on /reviews/, read here ------------------------


class ReadOnlyMixin:
    """Written by the board's own pages and their services; the admin only shows them."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SnapshotInline(ReadOnlyMixin, admin.TabularInline):
    model = ReviewSnapshot
    fields = ("risk", "likelihood", "impact", "score", "status", "confidence", "next_review_due")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("risk", "review")


class AcceptanceInline(ReadOnlyMixin, admin.TabularInline):
    model = RiskAcceptance
    fields = ("risk", "accepted_on", "expires_on", "accepted_by", "rationale")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("risk", "accepted_by")


@admin.register(BoardReview)
class BoardReviewAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("quarter", "meeting_date", "status", "finalised_at", "finalised_by")
    list_filter = ("status",)
    search_fields = ("quarter", "attendees", "decisions")
    list_select_related = ("finalised_by",)
    ordering = ("-quarter",)
    inlines = (SnapshotInline, AcceptanceInline)


@admin.register(ReviewSnapshot)
class ReviewSnapshotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("review", "risk", "likelihood", "impact", "score", "status")
    list_filter = ("review", "status")
    search_fields = ("risk__code", "risk__title")
    list_select_related = ("review", "risk")
    ordering = ("-review__quarter", "-score", "risk__code")


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ("risk", "review", "accepted_on", "expires_on", "accepted_by")
    list_filter = ("review",)
    search_fields = ("risk__code", "risk__title", "rationale")
    list_select_related = ("risk", "review", "accepted_by")
    ordering = ("-accepted_on", "-id")
