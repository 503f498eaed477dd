"""Refusals (401, 403, 409, 412, 428) logged as security events: who, from where, what."""

from __future__ import annotations

import logging

from accounts.security import security_event

LOGGED_STATUSES = {401, 403, 409, 412, 428}


class RefusalLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in LOGGED_STATUSES:
            security_event(
                f"http.{response.status_code}",
                request=request,
                level=logging.WARNING,
                method=request.method,
                path=request.path,
                status=response.status_code,
            )
        return response
