"""Request checks that come before any view."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

NUL = "\x00"
NUL_IN_PATH = "Not found: no address holds a NUL character (%00)."
NUL_IN_QUERY = "The query string may not contain NUL characters (%00)."


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


class RejectNulMiddleware:
    """A NUL character (`%00`) in the path (404: no record has one) or the query string (400)
    is refused before any view runs. PostgreSQL cannot compare text holding one, so a lookup
    by a path parameter, an admin filter value or an autocomplete term with a NUL would
    otherwise fail in the database. (Bodies are checked where they are parsed: form fields
    and the API's JSON parser.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info:
            return _refuse(request, NUL_IN_PATH, 404)
        if any(
            NUL in key or any(NUL in value for value in values)
            for key, values in request.GET.lists()
        ):
            return _refuse(request, NUL_IN_QUERY, 400)
        return self.get_response(request)


def _refuse(request, message: str, status: int) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
