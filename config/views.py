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
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.services import sessions_end_all, tokens_revoke_all
from accounts.views import CLEAR_SITE_DATA


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


@require_POST
def logout_everywhere(request):
    """Sign the user out of every session (a lost laptop, a shared terminal) and revoke
    every API token of theirs."""
    user = request.user
    sessions_end_all(user=user)
    tokens_revoke_all(user=user, request=request)
    logout(request)
    messages.info(request, "You have been signed out everywhere.")
    response = redirect(settings.LOGIN_URL)
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response
