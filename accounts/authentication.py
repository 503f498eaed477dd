"""Token authentication: knox's hashed tokens, answering 401 once expired or revoked, and
recording when each token was last used.

A token that authenticated once is remembered in the shared cache (common/cache.py), by
its SHA-512 digest, never its key: the user with their permissions, the token's expiry
and when it was last used. The next request with that key costs no query. Every change
that could alter the answer (a token revoked or created, a user saved, a group or
permission changed: accounts/signals.py) moves the "auth" version, which discards every
remembered token at once; an expiry passing is checked on each request."""

from __future__ import annotations

import binascii
import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions

from accounts.models import ApiToken
from common import cache as state_cache

# Writing the time on every request would cost a write per read; a minute is precise enough.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)
AUTH_STATE = "auth"


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <key>`. Knox deletes a token it finds expired, so an expired
    and a revoked token answer the same 401 "Invalid token."."""

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        self._touch(token)
        return user, token

    def _touch(self, token) -> None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now

    def authenticate_credentials(self, token: bytes):
        # Knox decodes the key as UTF-8 and would fail with a 500 on other bytes.
        try:
            key = token.decode("utf-8")
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        version, remembered = _remembered(digest)
        if remembered is not None:
            user, auth_token = remembered
            if auth_token.expiry is None or auth_token.expiry > timezone.now():
                last_used = auth_token.last_used_at
                self._touch(auth_token)
                if auth_token.last_used_at != last_used:
                    _remember(version, digest, user, auth_token)
                return user, auth_token
        user, auth_token = super().authenticate_credentials(token)
        _remember(version, digest, user, auth_token)
        return user, auth_token


def _token_key(digest: str) -> str:
    return state_cache.answer_key(AUTH_STATE, "token", digest)


def _remembered(digest: str) -> tuple[str | None, tuple | None]:
    """The "auth" version (read before the database, so an answer computed from the state
    before a revocation is never stored under the version after it) and the remembered
    (user, token), if any."""
    if not settings.API_AUTH_CACHE_SECONDS or not state_cache.active():
        return None, None
    version_key = state_cache.version_key(AUTH_STATE)
    key = _token_key(digest)
    found = cache.get_many([version_key, key])
    version = found.get(version_key) or state_cache.version(AUTH_STATE)
    stored = found.get(key)
    if stored is None or stored[0] != version:
        return version, None
    return version, stored[1]


def _remember(version: str | None, digest: str, user, auth_token) -> None:
    timeout = settings.API_AUTH_CACHE_SECONDS
    if not timeout or version is None or not state_cache.storable(AUTH_STATE):
        return
    if auth_token.expiry is not None:
        left = (auth_token.expiry - timezone.now()).total_seconds()
        timeout = min(timeout, int(left))
        if timeout <= 0:
            return
    # Loaded now, kept with the user: the permission checks of the next requests query nothing.
    user.get_all_permissions()
    auth_token.user = user
    cache.set(_token_key(digest), (version, (user, auth_token)), timeout)


def forget_all() -> None:
    """Everything kept under the "auth" version (tokens that authenticated, signed-in users'
    permissions, who must show a second factor) is read again from the database on its next
    use."""
    state_cache.bump(AUTH_STATE)
