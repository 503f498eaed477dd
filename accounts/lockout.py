"""Sign-in lockout with two caps and growing delays, on django-axes' failure records.

AXES_LOCKOUT_PARAMETERS lists [username, address] first and username alone second; axes
itself would hold both to one limit, so five failures from anyone would lock the account
for everyone. This handler gives each its own limit: AXES_FAILURE_LIMIT failures lock one
client out of one account, and AXES_USERNAME_FAILURE_LIMIT failures from any number of
addresses lock the account, which slows a guess spread over many addresses.

How long a lockout lasts grows with the account's failures (`cool_off_for`): the failures
of the username in the last AXES_COOLOFF_WINDOW (7 days), from AccessFailureLog (which keeps
every failure, those refused during a lockout included), divided by
AXES_USERNAME_FAILURE_LIMIT, is the number of caps reached; the cool-off is AXES_COOLOFF_BASE
up to the first cap and doubles at each further one, up to AXES_COOLOFF_MAX. A lockout ends
when the failures that reached the cap are older than the cool-off."""

from __future__ import annotations

import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def cool_off_for(
    username: str | None, *, at: datetime.datetime | None = None
) -> datetime.timedelta:
    """The lockout's length for `username`: AXES_COOLOFF_BASE, doubled for each cap of
    AXES_USERNAME_FAILURE_LIMIT failures past the first in the last AXES_COOLOFF_WINDOW, up
    to AXES_COOLOFF_MAX. The window is longer than the ceiling so that a guesser who waits
    out each lockout stays at the ceiling (20 guesses a day, not a fall back to short
    lockouts as the first day's failures leave a one-day window)."""
    base, ceiling = settings.AXES_COOLOFF_BASE, settings.AXES_COOLOFF_MAX
    if not username:
        return base
    at = at or timezone.now()
    failures = AccessFailureLog.objects.filter(
        username=username, attempt_time__gt=at - settings.AXES_COOLOFF_WINDOW
    ).count()
    caps = failures // settings.AXES_USERNAME_FAILURE_LIMIT
    delay = base
    for _ in range(caps - 1):
        delay *= 2
        if delay >= ceiling:
            return ceiling
    return min(delay, ceiling)


def cool_off(request) -> datetime.timedelta:
    """AXES_COOLOFF_TIME: axes calls it with the request alone (its lockout answer and
    message); the username is the form's, or the one axes recorded with the lockout."""
    credentials = getattr(request, "axes_credentials", None)
    username = get_client_username(request, credentials) if request is not None else None
    return cool_off_for(username, at=getattr(request, "axes_attempt_time", None))


class LockoutHandler(AxesDatabaseHandler):
    def get_user_attempts(self, request, credentials: dict | None = None):
        """The failures within this account's cool-off (axes' own reads the request alone,
        which does not always carry the username: re-authentication posts only a password)."""
        at = request.axes_attempt_time or timezone.now()
        username = get_client_username(request, credentials)
        # axes reads the attempts three times for one failure: one count of the account's
        # failures serves them all.
        known = request.__dict__.setdefault("_accounts_cool_off", {})
        if username not in known:
            known[username] = cool_off_for(username, at=at)
        threshold = at - known[username]
        return [
            attempts.filter(attempt_time__gte=threshold)
            for attempts in self.filter_user_attempts(request, credentials)
        ]

    def get_failures(self, request, credentials: dict | None = None) -> int:
        per_client, per_username = (
            _failures(attempts) for attempts in self.get_user_attempts(request, credentials)
        )
        limit = get_failure_limit(request, credentials)
        # Scaled so that axes' one comparison (failures >= limit) holds exactly when either
        # cap is reached.
        return max(per_client, per_username * limit // settings.AXES_USERNAME_FAILURE_LIMIT)

    def clean_expired_user_attempts(self, request=None, credentials: dict | None = None) -> int:
        """Counts older than the longest cool-off go (axes would drop every account's rows
        older than this request's cool-off, cutting a longer lockout short). The failures stay
        in AccessFailureLog."""
        count, _ = AccessAttempt.objects.filter(
            attempt_time__lte=timezone.now() - settings.AXES_COOLOFF_MAX
        ).delete()
        return count

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A successful sign-in clears only this client's count for the account: failures
        from other addresses still count towards the per-username cap. The failures stay on
        record in AccessFailureLog either way (AXES_ENABLE_ACCESS_FAILURE_LOG), and keep
        counting towards the account's growing cool-off."""
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return count
