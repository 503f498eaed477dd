"""API plumbing shared by both apps: permissions, pagination, errors and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from rest_framework import exceptions, pagination, permissions, renderers, status
from rest_framework.response import Response


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
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class LogCursorPagination(pagination.CursorPagination):
    """For append-only logs: a long pull never skips or repeats a row."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the record."
    default_code = "conflict"


class CSVRenderer(renderers.BaseRenderer):
    """`?format=csv`: flat columns, nested {level, label} objects become `x_level`, `x_label`."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        if isinstance(data, dict):
            data = [data]
        return "".join(csv_lines(data or [])).encode()


def flatten(row: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, prefix=f"{name}_"))
        elif isinstance(value, list):
            flat[name] = "; ".join(str(v) for v in value)
        else:
            flat[name] = "" if value is None else value
    return flat


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    """Yield CSV text line by line, header first, so large exports can stream."""
    buffer = io.StringIO()
    writer = None
    for row in rows:
        flat = flatten(row)
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(flat), extrasaction="ignore")
            writer.writeheader()
        writer.writerow(flat)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def error_response(message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": message}, status=code)


class CSVExportMixin:
    """Lists answer `?format=csv` with a streamed file: same filters, no pagination."""

    csv_filename = "export.csv"

    def list(self, request, *args, **kwargs):
        if getattr(request.accepted_renderer, "format", None) != "csv":
            return super().list(request, *args, **kwargs)
        from django.http import StreamingHttpResponse

        queryset = self.filter_queryset(self.get_queryset())
        context = self.get_serializer_context()
        serializer_class = self.get_serializer_class()
        rows = (
            serializer_class(obj, context=context).data
            for obj in queryset.iterator(chunk_size=1000)
        )
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}"'
        return response
