"""API tokens: django-rest-knox's hashed token, with a name and a last-used time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
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
