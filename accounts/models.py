"""API tokens: django-rest-knox's hashed token, with a name and a last-used time."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class ApiToken(AbstractAuthToken):
    """Only the SHA-512 digest of the key is stored; the key is shown once, at creation.

    Knox makes the digest the primary key; it is unique here instead, so a token is named
    in URLs and the admin by a plain number, not by anything derived from its key."""

    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name = models.CharField(max_length=100)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()
