"""The site's error answers (handler400/403/404/500 in config/urls.py). Under /api/ they are
JSON with a `detail`, like every other API answer; elsewhere Django's HTML pages."""

from __future__ import annotations

from django.http import JsonResponse
from django.views import defaults

from common.middleware import is_api


def bad_request(request, exception):
    if is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api(request):
        return JsonResponse(
            {"detail": "You do not have permission to perform this action."}, status=403
        )
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return JsonResponse(
            {"detail": "Server error: the request failed and nothing was saved. It is logged."},
            status=500,
        )
    return defaults.server_error(request)
