"""The client's address, as the trusted proxies report it. One home for this rule: the
sign-in lockout (django-axes), the security log and the API throttle all use it."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """With N trusted proxies in front (TRUSTED_PROXY_COUNT), each appends the address it
    received the request from to X-Forwarded-For, so the client is the N-th entry from the
    right; anything further left was written by the client and is not believed. With no
    proxy, or a header shorter than the chain (the request bypassed a proxy), the
    connecting address is the client."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
