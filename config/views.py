"""Views that belong to the site rather than to an app."""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST


@login_not_required
@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request):
    """Open to load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"}, status=HTTPStatus.OK)


def sessions_end_all(*, user) -> int:
    """End every session of `user`, on every device. Returns how many were ended."""
    from django.contrib.sessions.models import Session

    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            ended.append(session.pk)
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@require_POST
def logout_everywhere(request):
    """Sign the user out of every session (a lost laptop, a shared terminal)."""
    user = request.user
    sessions_end_all(user=user)
    logout(request)
    messages.info(request, "You have been signed out everywhere.")
    return redirect(settings.LOGIN_URL)
