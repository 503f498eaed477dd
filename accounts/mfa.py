"""Who must show a second factor (django-otp TOTP, a recovery code, or a WebAuthn key), in
one place.

With MFA_REQUIRED on (DJANGO_MFA_REQUIRED; default on when DEBUG is off), everyone who can
enter the admin (staff and superusers) and every member of the Staff group must verify a
second factor before any page; with MFA_ALL_USERS on, everyone must. Whoever has enrolled a
device verifies it at every sign-in, whatever the settings say.
"""

from __future__ import annotations

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.authentication import AUTH_STATE
from accounts.models import RecoveryCodeDevice
from common import cache as state_cache

STAFF_GROUP = "Staff"


def has_device(user) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def keys_of(user):
    """The user's WebAuthn keys (security keys, passkeys), newest first."""
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("-created_at")


def mfa_required_for(user) -> bool:
    """Kept in the shared cache under the "auth" version (accounts/authentication.py), which
    a user, group or device saved or deleted moves (accounts/signals.py): a page asks the
    database nothing for it after the first."""
    if not user.is_authenticated:
        return False
    key = ("mfa_required", user.pk, settings.MFA_REQUIRED, settings.MFA_ALL_USERS)
    return state_cache.cached(AUTH_STATE, key, lambda: _required(user))


def _required(user) -> bool:
    if settings.MFA_REQUIRED:
        if settings.MFA_ALL_USERS or user.is_staff or user.is_superuser:
            return True
        if user.groups.filter(name=STAFF_GROUP).exists():
            return True
    return has_device(user)


def recovery_codes_left(user) -> int:
    device = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    return device.codes.count() if device else 0
