"""The signed-in user's own account: API tokens and password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import TokenCreateForm
from accounts.models import ApiToken


@never_cache
@require_http_methods(["GET", "POST"])
def token_list(request):
    """The user's tokens (never their keys), and a form for a new one whose key is shown
    on this answer only."""
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            days=form.cleaned_data["days"],
            request=request,
        )
        form = TokenCreateForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request, "accounts/tokens.html", {"tokens": tokens, "form": form, "new_key": new_key}
    )


@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.token_revoke(token=token, by=request.user, request=request)
    messages.info(request, f"Token '{token.name}' revoked.")
    return redirect("accounts:tokens")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, then: other sessions and all tokens end, and an email."""

    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session signed in
        services.password_changed(user=form.user, request=self.request)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    pass
