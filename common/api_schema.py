"""The schema class and the base every API view mixes in. Kept apart from common/api.py,
which the REST_FRAMEWORK settings name: drf-spectacular's AutoSchema imports DRF's views,
whose class attributes read those settings, so the two cannot share a module."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections, transaction
from django.utils.text import capfirst
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from common.api import (
    CSV_SCHEMA,
    ERRORS,
    ETAG_HEADER,
    FORMAT_PARAMETER,
    IF_MATCH_PARAMETER,
    CSVExportMixin,
    JSONErrorsMixin,
    JSONParser,
    StrictQueryParams,
    VersionedMixin,
    error,
)


class ApiSchema(AutoSchema):
    """AutoSchema that adds the error answers each operation can give (explicit ones from
    extend_schema win), the `format` parameter of CSV lists and If-Match / ETag of versioned
    records."""

    def error_codes(self) -> set[int]:
        # Any operation: an unknown query parameter or format (400), credentials (401), role
        # (403), an unsatisfiable Accept header (406), the hourly rate (429).
        codes = {400, 401, 403, 406, 429}
        view, method = self.view, self.method
        if method in ("POST", "PUT", "PATCH"):
            codes |= {413, 415}
        if "{" in self.path:
            codes.add(404)
        if method == "GET" and self._is_list_view() and self._get_paginator():
            codes.add(404)  # a page out of range, a malformed cursor
        if isinstance(view, VersionedMixin) and method in ("PUT", "PATCH"):
            codes |= {409, 412, 428}
        return codes

    def _get_response_bodies(self, direction="response"):
        # Here rather than in get_response_serializers, which @extend_schema overrides.
        responses = super()._get_response_bodies(direction)
        for code in sorted(self.error_codes() - {int(c) for c in responses}):
            (_, media_type), response = error(code, ERRORS[code])
            responses[str(code)] = self._get_response_for_code(
                response, str(code), [media_type], direction
            )
        return responses

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        # CSV is a GET's success answer only, and it is text, not the JSON body's schema.
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content") or {}
        if "text/csv" in content:
            if self.method == "GET" and status_code.startswith("2"):
                content["text/csv"] = {"schema": CSV_SCHEMA}
            else:
                del content["text/csv"]
        return response

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # A read-only relation to a nullable column (closed_by, parent, ...) is null as often
        # as not: say so, and describe it by its own field, not the target's help text.
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        model_field = _model_field(field)
        if model_field is not None and field.read_only and model_field.concrete:
            if model_field.null:
                schema["nullable"] = True
            if isinstance(field, serializers.RelatedField):
                key = getattr(field, "slug_field", None) or "id"
                text = str(model_field.help_text or "")
                schema["description"] = text or f"{capfirst(model_field.verbose_name)} ({key})."
        return schema

    def get_description(self):
        # A view without its own docstring would show a base class's (a code comment).
        description = super().get_description()
        inherited = {
            (c.__doc__ or "").strip() for c in (ApiView, StrictQueryParams, CSVExportMixin)
        }
        return "" if description.strip() in inherited else description

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        csv_action = getattr(self.view, "action", None) in ("list", "retrieve")
        if self.method == "GET" and csv_action and isinstance(self.view, CSVExportMixin):
            parameters.append(FORMAT_PARAMETER)
        if isinstance(self.view, VersionedMixin):
            if self.method in ("PUT", "PATCH"):
                parameters.append(IF_MATCH_PARAMETER)
            if self.method in ("GET", "PUT", "PATCH") and not self._is_list_view():
                parameters.append(ETAG_HEADER)
        return parameters


def _model_field(field):
    """The model field a serializer field reads, if its serializer is a ModelSerializer and
    its source is one plain attribute."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:  # a property or an annotation
        return None


class ApiView(JSONErrorsMixin, StrictQueryParams):
    """Mixed into every API view: the bounded JSON parser, refusal of unknown query
    parameters, the documenting schema, and errors as JSON whatever format was asked for.

    Reads run outside a transaction (ATOMIC_REQUESTS would add BEGIN and COMMIT to every GET,
    and each statement of a read sees committed data either way); every other method runs in
    one, as ATOMIC_REQUESTS would: an error answer (DRF marks it for rollback) or an
    exception writes nothing."""

    parser_classes = [JSONParser]
    schema = ApiSchema()

    @classmethod
    def as_view(cls, *args, **kwargs):
        view = super().as_view(*args, **kwargs)
        view._non_atomic_requests = set(connections)
        return view

    def dispatch(self, request, *args, **kwargs):
        # Inside a caller's transaction (a test's), a read still gets its own savepoint: DRF
        # marks the innermost transaction for rollback on an error answer.
        if request.method in SAFE_METHODS and not connection.in_atomic_block:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)
