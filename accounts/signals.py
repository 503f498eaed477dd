"""Receivers that log sign-in events. They only log: the sign-in itself is Django's."""

from __future__ import annotations

import logging
import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.client import client_address
from accounts.models import SignedInSession
from accounts.security import security_event

# Session keys: when the user signed in (the absolute lifetime counts from it) and when they
# last gave their password (re-authentication). accounts.middleware reads them.
SIGNED_IN_AT = "accounts.signed_in_at"
AUTHENTICATED_AT = "accounts.authenticated_at"
# When the session was last saved for its idle timeout (accounts.middleware.IdleSessionMiddleware).
TOUCHED_AT = "accounts.touched_at"


def session_signed_in(*, request, user) -> None:
    """Stamp the new session with its sign-in time and record where it was made."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[AUTHENTICATED_AT] = now
    request.session[TOUCHED_AT] = now
    if request.session.session_key is None:
        request.session.save()
    SignedInSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "client_ip": client_address(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )


@receiver(user_logged_in, dispatch_uid="accounts.log_sign_in")
def _signed_in(sender, request, user, **kwargs) -> None:
    security_event("sign_in.succeeded", request=request, username=user.get_username())
    if request is not None and hasattr(request, "session"):
        session_signed_in(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="accounts.log_sign_out")
def _signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        security_event("sign_out", request=request, username=user.get_username())
    if request is not None and hasattr(request, "session") and request.session.session_key:
        SignedInSession.objects.filter(session_key=request.session.session_key).delete()


@receiver(user_login_failed, dispatch_uid="accounts.log_sign_in_failure")
def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    security_event(
        "sign_in.failed",
        request=request,
        username=credentials.get("username") or "-",
        level=logging.WARNING,
    )


@receiver(user_locked_out, dispatch_uid="accounts.log_lockout")
def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    security_event(
        "sign_in.locked_out", request=request, username=username or "-", level=logging.WARNING
    )


# --- What is remembered about who may do what (API tokens that authenticated, signed-in users'
# permissions, who must show a second factor: all under the "auth" version that
# accounts/authentication.py forget_all moves) is forgotten by any change to it: a token
# revoked or created, a user saved (deactivated, password, superuser), a group or a
# permission changed, a second factor enrolled or removed, or a sign-out.


def _access_changed(sender=None, **kwargs) -> None:
    from accounts.authentication import forget_all

    forget_all()


def _access_changed_on_m2m(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _access_changed()


def connect_access_changes() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp_webauthn.models import WebAuthnCredential

    from accounts.models import ApiToken

    User = get_user_model()
    # A second factor enrolled or removed changes who must show one (accounts.mfa).
    for model in (ApiToken, User, Group, Permission, TOTPDevice, WebAuthnCredential):
        for signal in (post_save, post_delete):
            signal.connect(
                _access_changed, sender=model, dispatch_uid=f"accounts.access_changed.{model}"
            )
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            _access_changed_on_m2m,
            sender=through,
            dispatch_uid=f"accounts.access_changed.{through}",
        )
    user_logged_out.connect(_access_changed, dispatch_uid="accounts.access_changed.sign_out")
