"""API plumbing shared by both apps: permissions, pagination, parsing, errors, record versions
(ETag / If-Match), CSV and the schema's error answers."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import (
    exceptions,
    pagination,
    parsers,
    permissions,
    renderers,
    serializers,
    status,
    throttling,
)
from rest_framework.response import Response
from rest_framework.settings import api_settings

from common import cache as state_cache
from common import spreadsheet
from common.versions import StaleEdit


class ModelPermissions(permissions.DjangoModelPermissions):
    """Reading needs the model's view permission too: an account in no group sees nothing."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        # A method the resource does not have answers 405 to a signed-in user, not 403.
        user = request.user
        if user and user.is_authenticated and request.method not in view.allowed_methods:
            return True
        return super().has_permission(request, view)


def requires(*perms: str) -> type[permissions.BasePermission]:
    """Permission class for endpoints that are not plain CRUD on their queryset's model."""

    class HasPerms(permissions.IsAuthenticated):
        def has_permission(self, request, view) -> bool:
            return super().has_permission(request, view) and request.user.has_perms(perms)

    HasPerms.__name__ = f"Requires({', '.join(perms)})"
    return HasPerms


class PagePagination(pagination.PageNumberPagination):
    """Pages by number. The first page is read with one row more than it shows: when that
    row is not there, the page is the whole list and its length is the count, so a short
    list costs one query, not a COUNT and a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        page_size = self.get_page_size(request)
        if not page_size or request.query_params.get(self.page_query_param, "1") != "1":
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        rows = list(queryset[: page_size + 1])
        paginator = self.django_paginator_class(queryset, page_size)
        if len(rows) <= page_size:
            paginator.count = len(rows)
        self.page = paginator.page(1)
        self.page.object_list = rows[:page_size]
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)


class LogCursorPagination(pagination.CursorPagination):
    """For append-only logs: a long pull never skips or repeats a row."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """DRF checks a cursor's offset but not its position, which is compared with the first
        ordering field in SQL: a tampered one (`p=abc` for an id) would fail there. Check it
        as that field's value and answer a bad one as an invalid cursor (404)."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        name = self.ordering[0].lstrip("-")
        try:
            self._model._meta.get_field(name).clean(cursor.position, None)
        except (DjangoValidationError, FieldDoesNotExist, TypeError, ValueError, OverflowError):
            raise exceptions.NotFound(self.invalid_cursor_message) from None
        return cursor


# --- Query parameters: an unknown one answers 400 -------------------------------------------


class StrictQueryParams:
    """Refuse query parameters the operation does not take, naming them: a misspelt filter
    (`?year=2026` where the filter is `quarter`) would otherwise return everything.

    Known: `format`; on GET of a list, the filterset's filters, `ordering` (if the view
    orders), and the paginator's `page` / `page_size` / `cursor`; and any a view declares in
    `extra_query_params` ({action or method: names}). The schema documents the same set
    (tests/api/test_query_params.py holds the two together)."""

    extra_query_params: dict[str, tuple[str, ...]] = {}

    def known_query_params(self) -> set[str]:
        request = self.request
        action = getattr(self, "action", None)
        known = {"format"}
        known.update(self.extra_query_params.get(action or request.method.lower(), ()))
        if request.method not in ("GET", "HEAD") or action == "retrieve":
            return known
        backends = getattr(self, "filter_backends", ())
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and any(
            getattr(b, "get_filterset_class", None) for b in backends
        ):
            known.update(filterset_class.base_filters)
        ordering = next((b for b in backends if hasattr(b, "ordering_param")), None)
        if ordering is not None and getattr(self, "ordering_fields", None):
            known.add(ordering.ordering_param)
        paginator = getattr(self, "paginator", None)
        if paginator is not None:
            for attribute in ("page_query_param", "page_size_query_param", "cursor_query_param"):
                name = getattr(paginator, attribute, None)
                if name:
                    known.add(name)
        return known

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticated and permitted first
        unknown = sorted(set(request.query_params) - self.known_query_params())
        if unknown:
            known = ", ".join(sorted(self.known_query_params()))
            raise exceptions.ValidationError(
                {
                    name: [f"Unknown query parameter; this operation takes: {known}."]
                    for name in unknown
                }
            )

    def perform_content_negotiation(self, request, force=False):
        # DRF answers an unknown `?format=` with a bare 404; say what is wrong instead.
        wanted = request.query_params.get(api_format_param())
        if not force and wanted is not None:
            formats = [r.format for r in self.get_renderers() if r.format != "api"]
            if wanted not in formats:
                raise exceptions.ValidationError(
                    {"format": [f"Unknown format. One of: {', '.join(formats)}."]}
                )
        return super().perform_content_negotiation(request, force)


def api_format_param() -> str:
    from rest_framework.settings import api_settings

    return api_settings.URL_FORMAT_OVERRIDE or "format"


# --- Errors ------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the record."
    default_code = "conflict"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send the record's version: the If-Match header with the ETag from your GET "
        '(e.g. If-Match: "risk-R1-v7"), or a `version` field in the body. Without it a '
        "change made by someone else since you loaded the record would be overwritten."
    )
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    """If-Match named another version than the stored one; carries the StaleEdit's story."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since the version named in If-Match."
    default_code = "precondition_failed"

    def __init__(self, detail=None, *, stale: StaleEdit | None = None):
        super().__init__(detail or (stale.messages[0] if stale else None))
        self.stale = stale


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(f"The request body is larger than the limit of {limit} bytes.")


def stale_payload(exc: StaleEdit, message: str | None = None) -> dict:
    return {
        "detail": message or exc.messages[0],
        "code": "stale",
        "current_version": exc.current_version,
        "changes": exc.changes,
    }


class RefuseUnknownFields:
    """Mixed into every serializer that takes input: a body key the serializer does not know is
    a 400 naming it, never silently dropped (a client sending `next_review_due` must learn it
    is derived, not believe it was saved). `field_hints` says where such a value comes from."""

    field_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [self.field_hints.get(name, "Unknown field: nothing takes it here.")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


def error_response(message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": message}, status=code)


# --- Parsing -----------------------------------------------------------------------------


class JSONParser(parsers.JSONParser):
    """DRF reads the body as a stream and so skips DATA_UPLOAD_MAX_MEMORY_SIZE: enforce it here,
    before reading more than the limit, and answer JSON nested too deep as a parse error."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            request = (parser_context or {}).get("request")
            meta = request.META if request is not None else {}
            try:
                declared = int(meta.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise RequestTooLarge()
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestTooLarge()
            stream = io.BytesIO(body)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
        if _holds_nul(data):
            # PostgreSQL cannot store it, and a lookup with it fails in the database.
            raise exceptions.ParseError("Text may not contain NUL characters (\\u0000).")
        return data


def _holds_nul(data) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# --- Record versions: ETag on GET, If-Match (or `version`) on PUT/PATCH --------------------

_ETAG = re.compile(r'^(?:W/)?"(?:(?P<record>[^"]*)-v)?(?P<version>[0-9]{1,9})"$')


class VersionedMixin:
    """For records with a `version` raised by every save.

    GET of one record answers an `ETag` naming the record and its version. PUT and PATCH must
    say which version the change starts from: `If-Match` with that ETag (a mismatch answers
    412) or a `version` field in the body (a mismatch answers 409); without either, 428. The
    service checks the version under a row lock, so a stale save writes nothing."""

    etag_kind = ""  # e.g. "risk": ETag "risk-R1-v7"

    def etag_record(self, obj) -> str:
        return f"{self.etag_kind}-{getattr(obj, self.lookup_field)}"

    def etag(self, obj) -> str:
        return f'"{self.etag_record(obj)}-v{obj.version}"'

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.read_serializer(instance)
        return Response(serializer.data, headers={"ETag": self.etag(instance)})

    def expected_version(self, request, obj) -> tuple[int, bool]:
        """The version the client started from, and whether If-Match named it."""
        header = request.headers.get("If-Match", "").strip()
        if header:
            if header == "*":
                raise PreconditionRequired(
                    'If-Match: * names no version; send the ETag from your GET (e.g. "'
                    f'{self.etag_record(obj)}-v{obj.version}").'
                )
            record = self.etag_record(obj)
            for tag in (t.strip() for t in header.split(",")):
                match = _ETAG.match(tag)
                if match and match["record"] in (None, record):
                    return int(match["version"]), True
            raise PreconditionFailed(
                f"If-Match names no version of this record: send the ETag from a GET of it "
                f'(now "{record}-v{obj.version}").'
            )
        data = request.data if isinstance(request.data, dict) else {}
        version = data.get("version")
        if version is None:
            raise PreconditionRequired()
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise exceptions.ValidationError(
                {"version": ["The record's version from your GET: a whole number from 1."]}
            )
        return version, False

    def versioned_update(self, request, *, partial: bool, write_serializer_class, save):
        """Validate the body with `write_serializer_class`, call `save(instance, data,
        expected_version)` (a service) and answer the record as read, with its new ETag."""
        instance = self.get_object()
        expected, by_header = self.expected_version(request, instance)
        serializer = write_serializer_class(
            instance, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        try:
            saved = save(instance, data, expected)
        except StaleEdit as exc:
            if by_header:
                raise PreconditionFailed(stale=exc) from exc
            raise
        fresh = self.get_queryset().get(pk=saved.pk)
        return Response(self.read_serializer(fresh).data, headers={"ETag": self.etag(fresh)})

    def read_serializer(self, obj):
        return self.get_serializer(obj)


# --- CSV -----------------------------------------------------------------------------------


class CSVRenderer(renderers.BaseRenderer):
    """`?format=csv`: flat columns, nested {level, label} objects become `x_level`, `x_label`.

    Lists and details of a `CSVExportMixin` view stream through the mixin; this renders the
    rest (an action's answer) with the columns of its first row."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        if isinstance(data, dict):
            data = [data]
        rows = [flatten(row if isinstance(row, dict) else {"value": row}) for row in data or []]
        header = list(dict.fromkeys(name for row in rows for name in row))
        table = ([row.get(name, "") for name in header] for row in rows)
        return "".join(spreadsheet.csv_lines(header, table)).encode()


def _cell(value) -> str:
    if isinstance(value, dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def flatten(row: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, prefix=f"{name}_"))
        elif isinstance(value, list):
            flat[name] = "; ".join(_cell(v) for v in value)
        else:
            flat[name] = "" if value is None else value
    return flat


def serializer_header(
    serializer: serializers.BaseSerializer, prefix: str = "", explode: dict | None = None
) -> list[str]:
    """The flat columns of a serializer's output, known before any row: an empty result
    still has its header, and a record whose nested value is null keeps every column. A
    field whose dict keys the fields cannot tell declares them as `csv_subfields`; nested
    lists in `explode` ({field: row kind}) become a `row` column and the item's columns."""
    header: list[str] = []
    exploded: list[str] = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        if explode and name in explode:
            child = field.child if isinstance(field, serializers.ListSerializer) else field
            exploded.extend(serializer_header(child, prefix=f"{explode[name]}_"))
            continue
        subfields = getattr(field, "csv_subfields", None)
        if subfields is None:
            subfields = getattr(serializer, "csv_subfields", {}).get(name)
        if isinstance(field, serializers.Serializer):
            header.extend(serializer_header(field, prefix=f"{prefix}{name}_"))
        elif subfields:
            header.extend(f"{prefix}{name}_{sub}" for sub in subfields)
        else:
            header.append(f"{prefix}{name}")
    if explode:
        header.append("row")
        header.extend(exploded)
    return header


def attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


def csv_response(header: list[str], rows: Iterable[list], *, filename: str):
    """A streamed CSV file: header first (even with no rows), every cell neutralised."""
    from django.http import StreamingHttpResponse

    response = StreamingHttpResponse(
        spreadsheet.csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = attachment(filename)
    return response


def wants_csv(request) -> bool:
    return getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv"


class ExportRateThrottle(throttling.UserRateThrottle):
    """A CSV answer (`?format=csv`, any list or detail) counts against the "export" rate
    (settings.RATE_LIMITS) as well as the general one; JSON answers do not."""

    scope = "export"

    def allow_request(self, request, view) -> bool:
        if not wants_csv(request):
            return True
        return super().allow_request(request, view)


class WriteScopedRateThrottle(throttling.ScopedRateThrottle):
    """ScopedRateThrottle counting only writes: an action that also lists (GET) is not
    limited for reading."""

    def allow_request(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().allow_request(request, view)


def scoped_throttles(scope: str, *, writes_only: bool = False) -> dict:
    """Keyword arguments for `@action`: the default throttles plus DRF's ScopedRateThrottle
    for `scope` (e.g. "contingency", rate in settings.RATE_LIMITS); `writes_only` counts only
    unsafe methods."""
    scoped = WriteScopedRateThrottle if writes_only else throttling.ScopedRateThrottle
    return {
        "throttle_scope": scope,
        "throttle_classes": [*api_settings.DEFAULT_THROTTLE_CLASSES, scoped],
    }


class CachedListMixin:
    """A list's JSON answer kept in the shared cache (common/cache.py) under the version of
    `answer_state`, which every write to it moves, and the day ("overdue" and what is open
    today turn with the date): the same URL again answers without a query or a serializer.
    Keyed by the full URL (filters, page, format); an invalid request raises before anything
    is kept, and a CSV is streamed afresh. The answer does not depend on who asks: the
    permission checks run before it, on every request."""

    answer_state = state_cache.REGISTER

    def list(self, request, *args, **kwargs):
        if wants_csv(request) or not state_cache.active():
            return super().list(request, *args, **kwargs)
        parts = ("list", type(self).__name__, request.build_absolute_uri(), timezone.localdate())
        return Response(
            state_cache.cached(
                self.answer_state,
                parts,
                lambda: super(CachedListMixin, self).list(request, *args, **kwargs).data,
            )
        )


class CSVExportMixin:
    """Lists and details answer `?format=csv` with a streamed file: same filters, no
    pagination, every matching row, the same columns for one record as for the list."""

    csv_filename = "export.csv"
    # {nested list field: row kind}: one row per item (e.g. a metric's targets and readings).
    csv_explode: dict[str, str] = {}

    def list(self, request, *args, **kwargs):
        if not wants_csv(request):
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        return csv_response(self.csv_header(), self.csv_table(queryset), filename=self.csv_filename)

    def finalize_response(self, request, response, *args, **kwargs):
        # A detail as CSV: the list's columns and row builder, over that one record.
        if (
            getattr(self, "action", None) == "retrieve"
            and wants_csv(request)
            and isinstance(response, Response)
            and response.status_code == status.HTTP_200_OK
        ):
            record = self.get_object()
            queryset = self.filter_queryset(self.get_queryset()).filter(pk=record.pk)
            filename = self.csv_filename.replace(
                ".csv", f"-{getattr(record, self.lookup_field)}.csv"
            )
            response = csv_response(self.csv_header(), self.csv_table(queryset), filename=filename)
        return super().finalize_response(request, response, *args, **kwargs)

    def csv_header(self) -> list[str]:
        return serializer_header(self.get_serializer(), explode=self.csv_explode)

    def csv_table(self, queryset) -> Iterator[list]:
        return serializer_table(
            self.get_serializer_class(),
            queryset.iterator(chunk_size=1000),
            context=self.get_serializer_context(),
            header=self.csv_header(),
            explode=self.csv_explode,
        )


def serializer_table(
    serializer_class, objects: Iterable, *, context: dict, header: list[str], explode=None
) -> Iterator[list]:
    """Each object through its serializer, flattened into `header`'s columns. A nested list
    named in `explode` ({field: row kind}) gives one row per item instead of text in a cell."""
    explode = explode or {}
    # One serializer for every row, as a ListSerializer does: building its fields again for
    # each object cost more than the rows themselves.
    serializer = serializer_class(context=context)
    for obj in objects:
        data = serializer.to_representation(obj)
        if not explode:
            flat = flatten(data)
            yield [flat.get(name, "") for name in header]
            continue
        base = flatten({k: v for k, v in data.items() if k not in explode})
        items = 0
        for field, kind in explode.items():
            for item in data.get(field) or []:
                flat = {**base, "row": kind, **flatten(item, prefix=f"{kind}_")}
                yield [flat.get(name, "") for name in header]
                items += 1
        if not items:
            yield [base.get(name, "") for name in header]


def serializer_csv(serializer_class, objects: Iterable, *, context: dict, filename: str):
    """A nested list (an action's rows) as a streamed CSV with its serializer's columns."""
    header = serializer_header(serializer_class(context=context))
    table = serializer_table(serializer_class, objects, context=context, header=header)
    return csv_response(header, table, filename=filename)


class JSONErrorsMixin:
    """An error is JSON whatever `?format=` or Accept asked for: a CSV client still gets a
    machine-readable reason, with the JSON Content-Type that says so."""

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400 and wants_csv(request):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = request.accepted_renderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# --- The schema: every operation documents the errors it can answer -----------------------

_MESSAGE = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_FIELD_ERRORS = {
    "type": "object",
    "description": "Field name (or `detail` / `non_field_errors`) to its messages.",
    "additionalProperties": {"oneOf": [{"type": "array", "items": {}}, {"type": "string"}]},
    "example": {"reason": ["Give the reason for this entry."]},
}
_STALE = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "Who changed what, and when."},
        "code": {"type": "string", "enum": ["stale"]},
        "current_version": {"type": "integer"},
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "old": {}, "new": {}},
            },
        },
    },
    "required": ["detail"],
}
_CONFLICT = {
    "type": "object",
    "description": "`detail`; for a stale `version` also `code`, `current_version`, `changes`.",
    "properties": _STALE["properties"],
    "required": ["detail"],
}


def error(code: int, description: str) -> tuple[tuple[int, str], OpenApiResponse]:
    schema = {
        400: _FIELD_ERRORS,
        409: _CONFLICT,
        412: _STALE,
    }.get(code, _MESSAGE)
    return (code, "application/json"), OpenApiResponse(schema, description=description)


ERRORS = {
    400: "Invalid input, or an unknown or invalid query parameter: the body names each field "
    "or parameter and its messages.",
    401: "No or invalid credentials: send `Authorization: Token <key>`.",
    403: "Signed in, but your role may not do this.",
    404: "No such record, a page number out of range or an invalid page cursor.",
    406: "The Accept header names no media type this operation answers with.",
    409: "The record's state does not allow this, or the `version` sent is stale.",
    412: "If-Match names a version that is no longer current: what changed, who, when.",
    413: "The request body is over 1 MiB.",
    415: "The body is not JSON (send `Content-Type: application/json`).",
    428: "Neither If-Match nor `version` was sent.",
    429: "Too many requests for this account this hour; `Retry-After` says when to retry.",
}

CSV_SCHEMA = {
    "type": "string",
    "description": "CSV (RFC 4180, UTF-8): a header row, then one row per record with nested "
    "objects flattened to `field_subfield` columns. A list streams every matching row (same "
    "filters, no pagination).",
}

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=["json", "csv"],
    description="`csv` streams every matching row (same filters, no pagination) as a file; a "
    "record as one row in its list's columns. Errors stay JSON.",
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        'The ETag from a GET of the record, e.g. "risk-R1-v7". Required unless the body '
        "carries `version`."
    ),
)
ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description="The record's version, for If-Match on PUT/PATCH.",
)
