"""Reads on accounts: a user's signed-in sessions."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import SignedInSession


def sessions_of(*, user):
    """The user's sessions that are still open (not signed out, not expired), newest first."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return SignedInSession.objects.filter(user=user, session_key__in=live)
