"""Token authentication: knox's hashed tokens, answering 401 once expired or revoked, and
recording when each token was last used."""

from __future__ import annotations

import datetime

from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

from accounts.models import ApiToken

# Writing the time on every request would cost a write per read; a minute is precise enough.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <key>`. Knox deletes a token it finds expired, so an expired
    and a revoked token answer the same 401 "Invalid token."."""

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token

    def authenticate_credentials(self, token: bytes):
        # Knox decodes the key as UTF-8 and would fail with a 500 on other bytes.
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)
