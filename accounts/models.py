"""API tokens (django-rest-knox's hashed token, with a name and a last-used time), signed-in
sessions, and recovery codes stored as salted digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

from common.text import SingleLineField


class ApiToken(AbstractAuthToken):
    """Only the SHA-512 digest of the key is stored; the key is shown once, at creation.

    Knox makes the digest the primary key; it is unique here instead, so a token is named
    in URLs and the admin by a plain number, not by anything derived from its key."""

    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name = SingleLineField(max_length=100)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()


class SignedInSession(models.Model):
    """A browser session's sign-in: where and on what it was made, so that its user can see
    their signed-in sessions (/accounts/sessions/) and end any of them. The session itself is
    Django's (django_session, in the database); this row is written at sign-in and goes when
    the session ends."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    signed_in_at = models.DateTimeField(default=timezone.now)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-signed_in_at"]

    def __str__(self) -> str:
        return f"{self.user} at {self.signed_in_at:%Y-%m-%d %H:%M} from {self.client_ip}"


def recovery_code_digest(code: str, salt: str) -> str:
    """SHA-256 of a recovery code (as typed: case, spaces and dashes do not count) with its
    own random salt. The codes carry 80 random bits; ASVS 2.6.2 asks for a per-code salt of at
    least 32 bits below 112 bits of entropy (ours is 128)."""
    normal = code.strip().replace(" ", "").replace("-", "").lower()
    return hashlib.sha256(f"{salt}:{normal}".encode()).hexdigest()


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's single-use recovery codes: django-otp's StaticDevice, but the database holds
    only each code's salted digest (RecoveryCode), never the code. A code is used up (its
    row deleted) when it verifies; failures slow the next try as the other devices do."""

    class Meta:
        verbose_name = "recovery codes"
        verbose_name_plural = "recovery codes"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def add_codes(self, codes: list[str]) -> None:
        RecoveryCode.objects.bulk_create(RecoveryCode.for_code(self, code) for code in codes)

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        match = next(
            (
                code
                for code in self.codes.select_for_update()
                if hmac.compare_digest(recovery_code_digest(str(token), code.salt), code.digest)
            ),
            None,
        )
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, related_name="codes", on_delete=models.CASCADE)
    salt = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"A recovery code of {self.device.user}"  # never the code: it is not stored

    @classmethod
    def for_code(cls, device: RecoveryCodeDevice, code: str) -> RecoveryCode:
        salt = secrets.token_hex(16)
        return cls(device=device, salt=salt, digest=recovery_code_digest(code, salt))
