"""Writes on accounts: API tokens, sessions, and what follows a password change."""

from __future__ import annotations

import base64
import datetime
import logging
import secrets
import smtplib

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp import login as otp_login
from django_otp import verify_token as otp_verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import ApiToken, RecoveryCodeDevice, SignedInSession
from accounts.security import security_event
from accounts.webauthn import KeyAlreadyRegistered

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


# --- Second factor (django-otp: one TOTP device and one set of recovery codes per user, and
# any number of WebAuthn keys beside them) ---

RECOVERY_CODES = 10


def _recovery_code() -> str:
    # 80 random bits in base32 (16 characters); stored as a salted digest (RecoveryCode).
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


@transaction.atomic
def mfa_enrol_begin(*, user) -> TOTPDevice:
    """An unconfirmed TOTP device for `user` to scan; reused until confirmed, so reloading
    the enrolment page does not change the secret under the user's phone."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def mfa_enrol_confirm(*, user, token: str, request=None) -> list[str] | None:
    """Confirm the enrolling device with a code from the app. On success, any earlier
    devices of the user are replaced, new recovery codes are made and returned (to show
    once), and this session counts as verified. None when the code is wrong."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None or not device.verify_token(token.strip()):
        security_event(
            "mfa.enrol_failed", request=request, username=user.get_username(), level=logging.WARNING
        )
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    recovery = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    recovery.add_codes(codes)
    if request is not None:
        _mark_verified(request, device)
    security_event(
        "mfa.enrolled", request=request, username=user.get_username(), device=device.persistent_id
    )
    return codes


def mfa_verify(*, user, token: str, request=None) -> bool:
    """Check a TOTP code (six digits) or a recovery code (used up by this). Each device
    slows repeated failures itself (django-otp's throttling: 1, 2, 4, ... seconds)."""
    token = token.strip().replace(" ", "").replace("-", "").lower()
    model = TOTPDevice if token.isdigit() else RecoveryCodeDevice
    device = model.objects.filter(user=user, confirmed=True).first()
    verified = device is not None and otp_verify_token(user, device.persistent_id, token)
    if not verified:
        security_event(
            "mfa.failed",
            request=request,
            username=user.get_username(),
            level=logging.WARNING,
            method=model.__name__,
        )
        return False
    if request is not None:
        _mark_verified(request, device)
    remaining = device.codes.count() if model is RecoveryCodeDevice else None
    security_event(
        "mfa.succeeded",
        request=request,
        username=user.get_username(),
        method=model.__name__,
        recovery_codes_left=remaining,
    )
    return True


def mfa_key_register(*, user, helper, state: dict, data: dict, request=None):
    """Verify a new WebAuthn key's registration (django-otp-webauthn's helper checks the
    challenge, the origin, the RP id and the attestation) and save it, named by its date.
    Nothing is saved when the check fails: the helper's exception propagates out of the
    savepoint. The caller has checked that this session is verified."""
    try:
        with transaction.atomic():
            device = helper.register_complete(user=user, state=state, data=data)
            device.name = f"Security key added {timezone.now():%Y-%m-%d %H:%M} UTC"
            device.save(update_fields=["name"])
    except IntegrityError:  # the same credential id twice (a browser excludes known ones)
        raise KeyAlreadyRegistered() from None
    security_event(
        "mfa.enrolled",
        request=request,
        username=user.get_username(),
        method="WebAuthnCredential",
        device=device.persistent_id,
    )
    return device


def mfa_key_verified(*, user, device, request) -> None:
    """A WebAuthn key answered this session's challenge: the session counts as verified."""
    _mark_verified(request, device)
    security_event(
        "mfa.succeeded",
        request=request,
        username=user.get_username(),
        method="WebAuthnCredential",
        device=device.persistent_id,
    )


def mfa_key_refused(*, user, request, event: str, reason: str) -> None:
    """Log a refused key registration (`mfa.enrol_failed`) or verification (`mfa.failed`)."""
    security_event(
        event,
        request=request,
        username=user.get_username() if user.is_authenticated else None,
        level=logging.WARNING,
        method="WebAuthnCredential",
        reason=reason,
    )


@transaction.atomic
def mfa_key_remove(*, user, pk: int, by=None, request=None) -> bool:
    """Remove one of `user`'s WebAuthn keys (by them, or by an administrator `by`). False
    when they have no such key."""
    device = WebAuthnCredential.objects.filter(user=user, pk=pk).first()
    if device is None:
        return False
    persistent_id = device.persistent_id
    device.delete()
    security_event(
        "mfa.key_removed",
        request=request,
        username=(by or user).get_username(),
        owner=user.get_username(),
        device=persistent_id,
        level=logging.WARNING,
    )
    return True


@transaction.atomic
def mfa_reset(*, user, by=None, request=None) -> None:
    """Remove every device of `user` (a lost phone): they enrol again at the next sign-in."""
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    WebAuthnCredential.objects.filter(user=user).delete()
    security_event(
        "mfa.reset",
        request=request,
        username=by.get_username() if by is not None else None,
        owner=user.get_username(),
        level=logging.WARNING,
    )


def _mark_verified(request, device) -> None:
    # A new session key at the change of privilege, as at sign-in.
    request.session.cycle_key()
    otp_login(request, device)
