"""The admin the risk staff use every day. Thin: every write of a risk, its rating or its
mitigations goes through risks/services.py, so the admin and the API obey the same rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import update_wrapper

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from import_export.admin import ImportMixin

from common import ratelimit
from common.admin import (
    HistoryAdmin,
    ReadOnlyMixin,
    ServiceErrorsMixin,
    SuperuserOnlyEditsMixin,
    VersionFieldMixin,
    adopt_saved,
    due_date_display,
    errors_onto_form,
    field_values,
    form_values,
)
from common.versions import StateConflict
from risks import columns, rules
from risks.admin_import import (
    IMPORT_PERMISSIONS,
    RegisterCSV,
    RegisterResource,
    RegisterXLSX,
)
from risks.forms import (
    RATING_FIELDS,
    BreachDismissForm,
    ContingencyEntryForm,
    MitigationAdminForm,
    RiskAdminForm,
    RiskCloseForm,
    TriggerEntryAdminForm,
)
from risks.importing import ImportFileError
from risks.models import (
    Assessment,
    BoardReview,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    NotificationFailure,
    RatingBand,
    RatingLevel,
    Reminder,
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
    risk_close,
    risk_create,
    risk_update,
)


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


# --- Actions on one risk: contingencies and closure, each its own page with a form ----------


def _contingency(service: Callable, done: str) -> Callable[..., str]:
    def perform(*, risk: Risk, user, data: dict) -> str:
        entry = service(risk=risk, user=user, **data)
        return f"{done} for {risk.code}: trigger log entry #{entry.sequence}."

    return perform


def _close(*, risk: Risk, user, data: dict) -> str:
    # risk_close decides from the status of the instance it is given and saves all of it:
    # give it the row as it stands now, locked, not the copy this page loaded.
    with transaction.atomic():
        locked = Risk.objects.select_for_update().get(pk=risk.pk)
        risk_close(risk=locked, reason=data["closure_reason"], user=user)
    return f"{risk.code} is closed."


def _contingency_available(risk: Risk) -> bool:
    return risk.status not in (Risk.Status.CONTINGENCY_ACTIVE, Risk.Status.CLOSED)


def _contingency_active(risk: Risk) -> bool:
    return risk.status == Risk.Status.CONTINGENCY_ACTIVE


@dataclass(frozen=True)
class RiskAction:
    """A button on the risk's page and the form behind it. `available` only decides whether
    the button shows; the service alone decides whether the action is allowed."""

    slug: str
    label: str
    permission: str
    form_class: type[forms.Form]
    available: Callable[[Risk], bool]
    perform: Callable[..., str]
    shows_contingency: bool = True
    # A per-user limit on submitting the form (settings.RATE_LIMITS), e.g. "contingency".
    rate_scope: str | None = None

    @property
    def url_name(self) -> str:
        return f"risks_risk_{self.slug.replace('-', '_')}"


RISK_ACTIONS = (
    RiskAction(
        slug="invoke-contingency",
        label="Invoke contingency",
        rate_scope="contingency",
        permission="risks.add_triggerentry",
        form_class=ContingencyEntryForm,
        available=_contingency_available,
        perform=_contingency(contingency_invoke, "Contingency invoked"),
    ),
    RiskAction(
        slug="contingency-update",
        label="Add update",
        permission="risks.add_triggerentry",
        form_class=ContingencyEntryForm,
        available=_contingency_active,
        perform=_contingency(contingency_update, "Contingency update recorded"),
    ),
    RiskAction(
        slug="stand-down",
        label="Stand down",
        permission="risks.add_triggerentry",
        form_class=ContingencyEntryForm,
        available=_contingency_active,
        perform=_contingency(contingency_stand_down, "Contingency stood down"),
    ),
    RiskAction(
        slug="close",
        label="Close risk",
        permission="risks.change_risk",
        form_class=RiskCloseForm,
        # Offered while a contingency is active too: risk_close then says what to do first.
        available=lambda risk: risk.status != Risk.Status.CLOSED,
        perform=_close,
        shows_contingency=False,
    ),
)


@admin.register(Risk)
class RiskAdmin(ServiceErrorsMixin, ImportMixin, HistoryAdmin):
    form = RiskAdminForm
    # Import: django-import-export's upload, preview and confirm; the rows go through
    # risks.importing.register_import (README "Importing a register").
    resource_classes = [RegisterResource]
    import_formats = [RegisterCSV, RegisterXLSX]
    skip_admin_log = True  # every imported change is in the change history, with its reason
    list_filter = (
        "phases",
        "owner_agency",
        "category",
        "status",
        RatingBandFilter,
        "confidence",
    )
    search_fields = ("code", "title", "owner", "owner_email", "statement")
    ordering = ("-score", "code")
    list_select_related = ("owner_agency",)
    autocomplete_fields = ("owner_agency", "supporting_agencies", "key_actions")
    filter_horizontal = ("phases",)
    inlines = (AssessmentInline, MitigationInline)
    list_per_page = 50
    # "50 results" without a second COUNT of the whole register under every filtered list.
    show_full_result_count = False
    # No bulk actions, so no checkbox column: the one action would be deleting, and every
    # risk's assessments protect it (a risk is closed, never deleted; see "No data loss").
    actions = None

    def has_import_permission(self, request) -> bool:
        return request.user.has_perms(IMPORT_PERMISSIONS)

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):  # why the file cannot be read, in words
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_result(self, result, request):
        if result.has_validation_errors():  # the register moved between preview and confirm
            messages.error(
                request,
                "Nothing was imported: "
                + "; ".join(
                    f"row {row.number}: {message}"
                    for row in result.invalid_rows
                    for messages_ in row.error_dict.values()
                    for message in messages_
                ),
            )
            return redirect("admin:risks_risk_import")
        return super().process_result(result, request)

    def get_urls(self):
        return [
            path(
                f"<int:risk_id>/{action.slug}/",
                self._guarded(self.risk_action_view, action),
                name=action.url_name,
            )
            for action in RISK_ACTIONS
        ] + super().get_urls()

    def _guarded(self, view, action: RiskAction):
        """The admin's own wrapper (staff only, CSRF, never cached), after a permission check
        that answers 403 rather than the admin's login page to a signed-in user without it."""
        admin_view = self.admin_site.admin_view(view)

        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not request.user.has_perm(action.permission):
                raise PermissionDenied
            if action.rate_scope and request.method == "POST" and request.user.is_authenticated:
                wait = ratelimit.wait_seconds(action.rate_scope, f"user-{request.user.pk}")
                if wait is not None:
                    return ratelimit.too_many(action.rate_scope, wait)
            return admin_view(request, *args, action=action, **kwargs)

        return update_wrapper(guarded, view)

    def risk_action_view(self, request, risk_id: int, action: RiskAction):
        risk = get_object_or_404(Risk, pk=risk_id)
        change_url = reverse("admin:risks_risk_change", args=(risk.pk,))
        form = action.form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                done = action.perform(risk=risk, user=request.user, data=form.cleaned_data)
            except StateConflict as conflict:
                # The risk moved on (often: someone else acted first); the form keeps its text.
                self.message_user(request, " ".join(conflict.messages), messages.ERROR)
            except ValidationError as error:
                errors_onto_form(form, error)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return redirect(change_url)
        adminform = helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {})
        entries = []
        if action.shows_contingency:
            entries = risk.trigger_entries.select_related("recorded_by").order_by("-sequence")
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.label}: {risk.code}",
            "opts": self.opts,
            "original": risk,
            "action": action,
            "available": action.available(risk),
            "adminform": adminform,
            "errors": helpers.AdminErrorList(form, []),
            "media": self.media + adminform.media,
            "change_url": change_url,
            "recent_entries": entries[:5],
        }
        return TemplateResponse(request, "admin/risks/risk/action_form.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["risk_actions"] = [
                (action.label, reverse(f"admin:{action.url_name}", args=(obj.pk,)))
                for action in RISK_ACTIONS
                if action.available(obj) and request.user.has_perm(action.permission)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_inlines(self, request, obj):
        # A new risk has no assessments to show: risk_create records its first one.
        return self.inlines if obj is not None else (MitigationInline,)

    def get_list_display(self, request):
        # The register's columns (risks/columns.py ADMIN_LIST); model fields show as the
        # admin shows them, the derived ones through the methods below.
        derived = {"rating": self.rating_column(request), "next_review_due": "next_review"}
        return tuple(derived.get(name, name) for name in columns.ADMIN_LIST)

    def rating_column(self, request):
        """A column bound to this request's scale; the same object on every call, as the
        changelist recognises sortable columns by identity."""
        if not hasattr(request, "_rating_column"):
            scale = scale_for(request)

            @admin.display(description=columns.column("rating").header, ordering="score")
            def rating(risk: Risk) -> str:
                return rating_badge(scale, risk.score)

            request._rating_column = rating
        return request._rating_column

    def get_list_display_links(self, request, list_display):
        return ("code", "title")

    @admin.display(description=columns.column("next_review_due").header, ordering="next_review_due")
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
                        "owner_email",
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
        if obj is not None and obj.status == Risk.Status.CLOSED:
            # First on the page of a closed risk: why, by whom and when it left the register.
            closure = ("closure_reason", "closed_by", "closed_at")
            fieldsets.insert(0, ("Closed", {"fields": closure}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "score",
            "last_assessed_at",
            "closure_reason",
            "closed_by",
            "closed_at",
            "trigger_log",
            "next_review_due",
        ]
        if obj is not None and obj.status in rules.WORKFLOW_STATUSES:
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
        adopt_saved(obj, risk)

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
class MitigationActionAdmin(VersionFieldMixin, ServiceErrorsMixin, HistoryAdmin):
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
            adopt_saved(obj, mitigation_create(user=request.user, **form.model_data()))


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
        adopt_saved(obj, CONTINGENCY_WRITES[form.cleaned_data["kind"]](user=request.user, **text))


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
class IndicatorAdmin(ServiceErrorsMixin, HistoryAdmin):
    list_display = ("risk", "metric", "comparison", "threshold", "applies_from", "active")
    list_filter = ("active", "comparison", "metric")
    search_fields = ("risk__code", "risk__title", "metric__name", "description")
    list_select_related = ("risk", "metric")
    autocomplete_fields = ("risk", "metric")
    ordering = ("risk__code", "id")

    def save_model(self, request, obj, form, change):
        if change:
            indicator_update(
                indicator=obj, user=request.user, **field_values(obj, form.changed_data)
            )
        else:
            adopt_saved(obj, indicator_create(user=request.user, **form_values(obj, form)))


@admin.register(IndicatorBreach)
class IndicatorBreachAdmin(ServiceErrorsMixin, HistoryAdmin):
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
        return f"{breach.reading.value} on {date_format(breach.reading.observed_on)}"

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
class BoardReviewAdmin(ReadOnlyMixin, HistoryAdmin):
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
class RiskAcceptanceAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = ("risk", "review", "accepted_on", "expires_on", "accepted_by")
    list_filter = ("review",)
    search_fields = ("risk__code", "risk__title", "rationale")
    list_select_related = ("risk", "review", "accepted_by")
    ordering = ("-accepted_on", "-id")


@admin.register(NotificationFailure)
class NotificationFailureAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Written by risks.notifications when a trigger log email fails after every retry."""

    list_display = ("entry", "failed_at", "attempts", "error")
    list_select_related = ("entry__risk",)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Written by `send_reminders`: what it sent, and what failed with the error."""

    list_display = ("sent_at", "status", "kind", "recipient", "risk", "due_on", "error")
    list_filter = ("status", "kind", "sent_on")
    search_fields = ("recipient", "risk__code", "error")
    list_select_related = ("risk",)
    date_hierarchy = "sent_on"
    ordering = ("-sent_at", "-id")
