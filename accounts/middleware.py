"""Refusals (401, 403, 409, 412, 428) logged as security events: who, from where, what."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

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


# Reached without a second factor: sign-out, the second-factor pages themselves, and what any
# page needs to render (static files).
MFA_OPEN_PREFIXES = ("/accounts/mfa/", "/accounts/logout/", "/accounts/login/", "/static/")


class MFARequiredMiddleware:
    """A signed-in user who must show a second factor (accounts.mfa) and has not yet, in
    this session, is sent to verify it, or to enrol when they have no device. Under /api/ a
    session without it answers 403 in JSON. Token requests are not affected: a token is
    created from a verified session, and DRF authenticates it after this middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from accounts.mfa import has_device, mfa_required_for

        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path_info.startswith(MFA_OPEN_PREFIXES)
            and mfa_required_for(user)
        ):
            if request.path_info.startswith("/api/") and not request.path_info.startswith(
                "/api/docs/"  # a page for people, like the rest of the site
            ):
                return JsonResponse(
                    {"detail": "A second factor is required: verify it at /accounts/mfa/."},
                    status=403,
                )
            target = "accounts:mfa-verify" if has_device(user) else "accounts:mfa-enrol"
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse(target)}?{query}")
        return self.get_response(request)
