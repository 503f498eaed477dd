"""Writes on accounts: API tokens, sessions, and what follows a password change."""

from __future__ import annotations

import datetime
import logging
import smtplib

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, SignedInSession
from accounts.security import security_event

logger = logging.getLogger(__name__)


@transaction.atomic
def token_create(*, user, name: str, days: int | None = None, request=None) -> tuple[ApiToken, str]:
    """A new token for `user`, valid for `days` (default API_TOKEN_TTL_DAYS). Returns the
    token and its key; the key is not stored and cannot be shown again."""
    days = settings.API_TOKEN_TTL_DAYS if days is None else days
    token = ApiToken(user=user, name=name.strip())
    token.full_clean(exclude=["digest", "token_key"])
    token, key = ApiToken.objects.create(
        user=user, name=token.name, expiry=datetime.timedelta(days=days)
    )
    security_event(
        "token.created",
        request=request,
        username=user.get_username(),
        token_id=token.pk,
        token_name=token.name,
        expiry=token.expiry.isoformat(),
    )
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, by=None, request=None) -> None:
    """End one token; the next request that presents it answers 401."""
    security_event(
        "token.revoked",
        request=request,
        username=by.get_username() if by is not None else None,
        owner=token.user.get_username(),
        token_id=token.pk,
        token_name=token.name,
    )
    token.delete()


@transaction.atomic
def tokens_revoke_all(*, user, request=None) -> int:
    count, _ = ApiToken.objects.filter(user=user).delete()
    if count:
        security_event("token.revoked_all", request=request, owner=user.get_username(), count=count)
    return count


def sessions_end_all(*, user, keep_session_key: str | None = None) -> int:
    """End every session of `user`, on every device, except `keep_session_key` if given.
    Returns how many were ended."""
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep_session_key:
            continue
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            ended.append(session.pk)
    Session.objects.filter(pk__in=ended).delete()
    SignedInSession.objects.filter(user=user).exclude(session_key=keep_session_key).delete()
    return len(ended)


@transaction.atomic
def session_end(*, user, session_key: str, request=None) -> bool:
    """End one of `user`'s sessions (another browser, a lost laptop). False when `user` has
    no such session."""
    record = SignedInSession.objects.filter(user=user, session_key=session_key).first()
    if record is None:
        return False
    Session.objects.filter(session_key=session_key).delete()
    record.delete()
    security_event(
        "session.ended",
        request=request,
        username=user.get_username(),
        session_signed_in_at=record.signed_in_at.isoformat(),
        session_client_ip=record.client_ip,
    )
    return True


def password_changed(*, user, request=None) -> None:
    """After a password change: every other session and every API token of the user ends,
    and the user is told by email, so a change they did not make does not go unnoticed."""
    keep = request.session.session_key if request is not None else None
    sessions = sessions_end_all(user=user, keep_session_key=keep)
    tokens = tokens_revoke_all(user=user, request=request)
    security_event(
        "password.changed",
        request=request,
        username=user.get_username(),
        sessions_ended=sessions,
        tokens_revoked=tokens,
    )
    if not user.email:
        return
    try:
        send_mail(
            subject="Your Roadmap Risk Register password was changed",
            message=(
                f"The password of {user.get_username()} was changed at "
                f"{timezone.now():%Y-%m-%d %H:%M} UTC. Your other sessions and your API "
                "tokens have been ended.\n\nIf you did not change it, tell an administrator "
                "at once."
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    except (OSError, smtplib.SMTPException):
        logger.exception("Could not email %s about their password change.", user.get_username())
