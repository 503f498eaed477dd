"""Admin plumbing both apps use: history that is read, never reverted; service refusals shown
on the form; the hidden version every change form carries; read-only and superuser-only
models. Imports neither app."""

from __future__ import annotations

import datetime
import functools

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import get_language
from simple_history.admin import SimpleHistoryAdmin

OVERDUE = '<span class="nowrap">{}</span> <strong style="color:#b50909">overdue</strong>'


def due_date_display(due, *, done: bool) -> str:
    if due is None:
        return "-"
    if not done and due < timezone.localdate():
        return format_html(OVERDUE, _formatted(due, get_language()))
    return _formatted(due, get_language())


@functools.lru_cache(maxsize=4096)
def _formatted(day: datetime.date, language: str | None) -> str:
    # A list repeats its dates and date_format costs ~40 us a call (50 rows a page).
    return date_format(day)


def field_values(instance: Model, names) -> dict:
    return {name: getattr(instance, name) for name in names}


def form_values(instance: Model, form) -> dict:
    """The model fields the (bound or class) form edits, as the service's keyword arguments."""
    model_fields = {field.name for field in instance._meta.fields}
    return field_values(instance, [name for name in form.base_fields if name in model_fields])


def adopt_saved(obj: Model, saved: Model) -> None:
    """Point the admin's unsaved object at the row a service created, for the log and redirect."""
    obj.pk = saved.pk
    obj.refresh_from_db()


def errors_onto_form(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's refusal, shown where the user typed: on its field, else above the form."""
    errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for field, field_messages in errors.items():
        form.add_error(field if field in form.fields else None, field_messages)


class HistoryAdmin(SimpleHistoryAdmin):
    """The change history is a record to read, for Staff and auditors alike. simple-history's
    revert saves an old copy through save_model for anyone who may merely *view* the record,
    past the version check and the workflow rules; here old versions are shown, never saved.
    To undo a change, edit the record again: that goes through its service."""

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_view(self, request, object_id, extra_context=None):
        # simple-history looks the id up unchecked: `abc/history/` would be a ValueError (500).
        try:
            self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            raise Http404(f"No {self.model._meta.verbose_name} with that id.") from None
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


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
                errors_onto_form(self, error)
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


class RemovedThroughServiceAdmin(admin.ModelAdmin):
    """Records the admin lists read-only and removes only through a service (which checks,
    logs and says who): deleting one, or several with the bulk action, calls `remove` for
    each, never a bare delete. Nothing is added or changed here."""

    actions = ["delete_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def remove(self, request, obj) -> None:
        """The service that removes `obj` on behalf of request.user."""
        raise NotImplementedError  # each subclass names its service

    def delete_model(self, request, obj) -> None:
        self.remove(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset.select_related("user"):
            self.remove(request, obj)


class ReadOnlyMixin:
    """Written by the board's own pages and their services; the admin only shows them."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class BoundedChangeList(ChangeList):
    """The date drill-down computes the end of the chosen year, month or day: for year 9999
    (typed into the address) that end does not exist and Django raises a server error. An
    impossible drill-down is a bad filter like any other: the admin's "invalid filter" page."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


def bound_date_hierarchies(site) -> None:
    """Give every admin on `site` with a date hierarchy, ours and third-party ones (django-axes)
    alike, the BoundedChangeList. Called once the admins are registered (CommonConfig.ready)."""
    for model_admin in site._registry.values():
        if model_admin.date_hierarchy:
            model_admin.get_changelist = _bounded_changelist


def _bounded_changelist(request, **kwargs):
    return BoundedChangeList
