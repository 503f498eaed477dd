"""Sign-in lockout with two caps, on django-axes' failure records.

AXES_LOCKOUT_PARAMETERS lists [username, address] first and username alone second; axes
itself would hold both to one limit, so five failures from anyone would lock the account
for everyone. This handler gives each its own limit: AXES_FAILURE_LIMIT failures lock one
client out of one account, and AXES_USERNAME_FAILURE_LIMIT failures from any number of
addresses lock the account, which slows a guess spread over many addresses."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        per_client, per_username = (
            _failures(attempts) for attempts in self.get_user_attempts(request, credentials)
        )
        limit = get_failure_limit(request, credentials)
        # Scaled so that axes' one comparison (failures >= limit) holds exactly when either
        # cap is reached.
        return max(per_client, per_username * limit // settings.AXES_USERNAME_FAILURE_LIMIT)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A successful sign-in clears only this client's count for the account: failures
        from other addresses still count towards the per-username cap. The failures stay on
        record in AccessFailureLog either way (AXES_ENABLE_ACCESS_FAILURE_LOG)."""
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return count
