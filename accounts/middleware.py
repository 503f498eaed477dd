"""Request-wide security plumbing: request ids and the access log, the absolute session
lifetime, no-store caching, re-authentication before sensitive pages, read auditing, and
refusals (401, 403, 409, 412, 428) logged as security events."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.logs import current_request, request_id_for
from accounts.security import security_event
from accounts.signals import AUTHENTICATED_AT, SIGNED_IN_AT, TOUCHED_AT

LOGGED_STATUSES = {401, 403, 409, 412, 428}

access_log = logging.getLogger("access")


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


class RequestContextMiddleware:
    """First in MIDDLEWARE. Gives the request an id (the caller's X-Request-ID when it is
    well-formed, else a new one), returns it in X-Request-ID, makes it, the user and the client
    address part of every log line while the request is served, and writes one access-log line
    (logger "access") when it is done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID"))
        token = current_request.set(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            access_log.info(
                "%s %s %s",
                request.method,
                request.get_full_path(),
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            current_request.reset(token)


class IdleSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, with the idle timeout (SESSION_COOKIE_AGE) kept to
    SESSION_TOUCH_SECONDS rather than to the request: a signed-in session is saved, and its
    expiry moved on, when it was last saved longer ago than that, instead of on every request
    (SESSION_SAVE_EVERY_REQUEST), which cost every page a transaction and an UPDATE. A session
    without a signed-in user is never saved for this, so a stale cookie creates nothing."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty() and session.get(SESSION_KEY):
            now = time.time()
            touched = session.get(TOUCHED_AT)
            if touched is None or not 0 <= now - touched < settings.SESSION_TOUCH_SECONDS:
                session[TOUCHED_AT] = now
        return super().process_response(request, response)


class AbsoluteSessionLifetimeMiddleware:
    """A session ends SESSION_MAX_AGE_SECONDS after its sign-in, however active it has been
    (the idle timeout is SESSION_COOKIE_AGE). A session without a sign-in time (one from
    before this rule) ends too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            signed_in_at = request.session.get(SIGNED_IN_AT)
            if (
                signed_in_at is None
                or time.time() - signed_in_at > settings.SESSION_MAX_AGE_SECONDS
            ):
                security_event(
                    "session.expired", request=request, reason="absolute lifetime reached"
                )
                logout(request)
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store, private` (and `Pragma: no-cache`) on every response to a
    signed-in user and on every API response: pages, exports and JSON stay out of browser
    and proxy caches. Static files are answered before this (WhiteNoise) and stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if is_api(request) or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True, private=True)
            response["Pragma"] = "no-cache"
        return response


def recently_authenticated(request) -> bool:
    given = request.session.get(AUTHENTICATED_AT)
    return given is not None and time.time() - given <= settings.REAUTH_SECONDS


class ReauthenticationMiddleware:
    """The pages in REAUTH_PATHS (creating an API token, managing users and tokens in the
    admin, invoking or standing down a contingency, finalising a board review) need the
    password given within REAUTH_SECONDS; otherwise the user is sent to /accounts/reauth/ and
    back. Only session sign-ins are asked: the API's token calls never reach these pages."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.rules = [(re.compile(path), set(methods)) for path, methods in settings.REAUTH_PATHS]

    def __call__(self, request):
        if (
            any(
                rule.match(request.path_info) and request.method in methods
                for rule, methods in self.rules
            )
            and request.user.is_authenticated
            and not recently_authenticated(request)
        ):
            return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': _back(request)})}")
        return self.get_response(request)


def _back(request) -> str:
    """Where to return after the password: the page itself for a GET; for a POST (whose body
    cannot be replayed) the page the form was on, when it is on this site."""
    if request.method == "GET":
        return request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.path


class ReadAuditMiddleware:
    """Who took what: every export (a CSV, XLSX or PDF file, page or API) and every API list
    page is logged as a security event, `read.export` or `read.list`, with the user, the
    client address, the path, the filters and the number of rows (a streamed CSV is counted as
    it streams and logged when it ends)."""

    EXPORT_TYPES = ("text/csv", "application/pdf", "application/vnd.openxmlformats")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method != "GET" or response.status_code != 200:
            return response
        content_type = response.get("Content-Type", "")
        filters = _filters(request)
        if content_type.startswith(self.EXPORT_TYPES) or response.has_header("Content-Disposition"):
            kind = content_type.split(";")[0]
            if response.streaming and kind == "text/csv":
                response.streaming_content = _counted_csv(
                    response.streaming_content, request=request, filters=filters
                )
            else:
                _log_read(
                    "read.export",
                    request,
                    filters=filters,
                    rows=getattr(response, "audit_rows", None),
                    format=kind,
                )
        elif is_api(request):
            data = getattr(response, "data", None)
            if isinstance(data, dict) and isinstance(data.get("results"), list):
                _log_read(
                    "read.list",
                    request,
                    filters=filters,
                    rows=len(data["results"]),
                    total=data.get("count"),
                )
        return response


def _filters(request) -> dict:
    return {key: values[0] if len(values) == 1 else values for key, values in request.GET.lists()}


def _log_read(event: str, request, **fields) -> None:
    security_event(event, request=request, method=request.method, path=request.path, **fields)


def _counted_csv(chunks, *, request, filters):
    """Pass the CSV through, counting its records (newlines outside quoted cells, less the
    header), and log the export once the last chunk has gone."""
    newlines = 0
    quoted = False
    for chunk in chunks:
        text = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
        for index, part in enumerate(text.split('"')):
            if index:
                quoted = not quoted
            if not quoted:
                newlines += part.count("\n")
        yield chunk
    _log_read("read.export", request, filters=filters, rows=max(newlines - 1, 0), format="text/csv")


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
