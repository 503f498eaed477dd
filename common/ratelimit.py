"""Per-operation limits for pages, in Django's cache (shared by every app server once the
cache is a shared one): `@rate_limited("export")` allows each user settings.RATE_LIMITS[scope]
calls ("120/hour") in a fixed window, then answers 429 saying when to try again. The API uses
DRF's throttles with the same scopes and rates (common/api.py)."""

from __future__ import annotations

import functools
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.throttling import SimpleRateThrottle

WHAT = {"export": "exports", "contingency": "contingency invocations"}


def wait_seconds(scope: str, ident) -> int | None:
    """Count one call of `scope` by `ident`; the seconds to wait when it is over the limit,
    else None."""
    allowed, period = SimpleRateThrottle.parse_rate(None, settings.RATE_LIMITS[scope])
    now = time.time()
    window = int(now // period)
    key = f"ratelimit:{scope}:{ident}:{window}"
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 5)
        count = 1
    if count <= allowed:
        return None
    return max(1, math.ceil((window + 1) * period - now))


def too_many(scope: str, wait: int) -> HttpResponse:
    minutes = math.ceil(wait / 60)
    message = (
        f"Too many {WHAT.get(scope, scope)}: the limit is {settings.RATE_LIMITS[scope]} per "
        f"person. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response


def rate_limited(scope: str):
    """A page view decorator: each signed-in user (or client address) is held to the scope's
    rate."""

    def decorate(view):
        @functools.wraps(view)
        def limited(request, *args, **kwargs):
            user = getattr(request, "user", None)
            ident = (
                f"user-{user.pk}"
                if user is not None and user.is_authenticated
                else f"ip-{request.META.get('REMOTE_ADDR')}"
            )
            wait = wait_seconds(scope, ident)
            if wait is not None:
                return too_many(scope, wait)
            return view(request, *args, **kwargs)

        return limited

    return decorate
