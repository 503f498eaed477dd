"""The signed-in user's own account: API tokens, sessions, password, second factor and
re-authentication."""

from __future__ import annotations

import base64
import json
import logging
import time

import qrcode
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp_webauthn import exceptions as key_errors
from django_otp_webauthn import views as key_views
from django_otp_webauthn.utils import rewrite_exceptions
from qrcode.image.svg import SvgPathImage
from webauthn.helpers.exceptions import WebAuthnException

from accounts import mfa, selectors, services
from accounts.forms import MFACodeForm, ReauthenticationForm, TokenCreateForm
from accounts.models import ApiToken, SignedInSession
from accounts.security import security_event
from accounts.signals import AUTHENTICATED_AT

# Sign-out tells the browser to drop what it kept of the site.
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


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


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@never_cache
def mfa_overview(request):
    return render(
        request,
        "accounts/mfa.html",
        {
            "has_device": mfa.has_device(request.user),
            "required": mfa.mfa_required_for(request.user),
            "codes_left": mfa.recovery_codes_left(request.user),
            "keys": mfa.keys_of(request.user),
            "verified": request.user.is_verified(),
        },
    )


@require_POST
def mfa_key_remove(request, pk: int):
    """Remove one of the user's own keys, from a session verified with a second factor."""
    if not request.user.is_verified():
        return redirect(f"{reverse('accounts:mfa-verify')}?next={reverse('accounts:mfa')}")
    if not services.mfa_key_remove(user=request.user, pk=pk, request=request):
        return redirect("accounts:mfa")  # not theirs, or already gone: nothing to say
    messages.info(request, "The security key has been removed.")
    return redirect("accounts:mfa")


# --- WebAuthn keys (django-otp-webauthn's JSON views, at /accounts/mfa/key/) ----------------
# Its browser script posts JSON to these four; every refusal is a JSON 4xx with a `code`.


class _KeyCeremony:
    """The body is a JSON object (or empty, for the begin steps); anything else answers 400,
    a key's answer that does not verify 422, and a refused completion is a security event."""

    failure_event: str | None = None

    def _parse_request_data(self, request):
        if not request.body:
            return {}
        if request.content_type != "application/json":
            raise key_errors.MalformedRequest(detail="Send the body as application/json.")
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep
            raise key_errors.MalformedRequest() from None
        if not isinstance(data, dict):
            raise key_errors.MalformedRequest(detail="The body must be a JSON object.")
        return data

    def handle_exception(self, exc):
        if isinstance(exc, WebAuthnException):  # what rewrite_exceptions does not name
            exc = key_errors.UnprocessableEntity(
                code="invalid_response", detail="The key's answer could not be verified."
            )
        if isinstance(exc, key_errors.OTPWebAuthnApiError) and self.failure_event:
            services.mfa_key_refused(
                user=self.request.user,
                request=self.request,
                event=self.failure_event,
                reason=exc.code,
            )
        return super().handle_exception(exc)


class KeyRegistrationBegin(_KeyCeremony, key_views.BeginCredentialRegistrationView):
    def check_can_register(self):
        # A key is added beside the second factor the session was verified with, never in
        # place of one: a stolen password alone cannot add a key.
        if not self.request.user.is_verified():
            raise key_errors.NotVerified(
                detail="Verify with your authenticator app first, then add a key."
            )


class KeyRegistrationComplete(_KeyCeremony, key_views.CompleteCredentialRegistrationView):
    failure_event = "mfa.enrol_failed"
    check_can_register = KeyRegistrationBegin.check_can_register

    def post(self, *args, **kwargs):
        state = self.get_state()  # popped from the session: a challenge answers once
        with rewrite_exceptions():
            device = services.mfa_key_register(
                user=self.request.user,
                helper=self.get_helper(),
                state=state,
                data=self.request.data,
                request=self.request,
            )
        return JsonResponse({"id": device.pk})


class KeyAuthenticationBegin(_KeyCeremony, key_views.BeginCredentialAuthenticationView):
    def check_can_authenticate(self):
        super().check_can_authenticate()
        if not mfa.keys_of(self.request.user).exists():
            raise key_errors.CredentialNotFound(detail="You have no security key to use.")


class KeyAuthenticationComplete(_KeyCeremony, key_views.CompleteCredentialAuthenticationView):
    failure_event = "mfa.failed"

    def complete_auth(self, device):
        services.mfa_key_verified(user=self.request.user, device=device, request=self.request)


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol(request):
    """Scan a QR code (or type the secret), confirm with a code, get recovery codes once.
    A user who has a device must verify it first: a stolen password cannot replace it."""
    if mfa.has_device(request.user) and not request.user.is_verified():
        return redirect(f"{reverse('accounts:mfa-verify')}?{request.GET.urlencode()}")
    form = MFACodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        codes = services.mfa_enrol_confirm(
            user=request.user, token=form.cleaned_data["code"], request=request
        )
        if codes is not None:
            return render(
                request, "accounts/mfa_codes.html", {"codes": codes, "next": _next_url(request)}
            )
        form.add_error("code", "That code does not match. Check the app's clock and try again.")
    device = services.mfa_enrol_begin(user=request.user)
    qr = qrcode.make(device.config_url, image_factory=SvgPathImage, box_size=8)
    return render(
        request,
        "accounts/mfa_enrol.html",
        {
            "form": form,
            "qr_svg": qr.to_string(encoding="unicode"),
            "secret": base64.b32encode(device.bin_key).decode("ascii"),
            "next": _next_url(request),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    if not mfa.has_device(request.user):
        return redirect(f"{reverse('accounts:mfa-enrol')}?{request.GET.urlencode()}")
    form = MFACodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        if services.mfa_verify(user=request.user, token=form.cleaned_data["code"], request=request):
            return redirect(_next_url(request))
        form.add_error("code", "That code is not valid. Wait for a new one and try again.")
    return render(
        request,
        "accounts/mfa_verify.html",
        {
            "form": form,
            "next": _next_url(request),
            "has_key": mfa.keys_of(request.user).exists(),
        },
    )


class LogoutView(auth_views.LogoutView):
    """Django's sign-out, with `Clear-Site-Data` so the browser drops cached pages, cookies
    and storage of the site."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response


@never_cache
@require_GET
def session_list(request):
    """The user's signed-in sessions (where and when each began; this one marked) and API
    tokens, each with a button that ends it."""
    return render(
        request,
        "accounts/sessions.html",
        {
            "sessions": selectors.sessions_of(user=request.user),
            "current_key": request.session.session_key,
            "tokens": ApiToken.objects.filter(user=request.user),
            "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
            "max_hours": round(settings.SESSION_MAX_AGE_SECONDS / 3600, 1),
        },
    )


@require_POST
def session_end(request, pk: int):
    record = get_object_or_404(SignedInSession, pk=pk, user=request.user)
    if record.session_key == request.session.session_key:
        messages.info(request, "To end this session, sign out.")
        return redirect("accounts:sessions")
    services.session_end(user=request.user, session_key=record.session_key, request=request)
    messages.info(request, "The session has been ended.")
    return redirect("accounts:sessions")


@never_cache
@require_http_methods(["GET", "POST"])
def reauthenticate(request):
    """Ask for the password again before a sensitive page (settings.REAUTH_PATHS). Failures
    count towards the sign-in lockout (django-axes), as a failed sign-in does."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = settings.LOGIN_REDIRECT_URL
    form = ReauthenticationForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        user = authenticate(
            request,
            username=request.user.get_username(),
            password=form.cleaned_data["password"],
        )
        if user is not None and user.pk == request.user.pk:
            request.session[AUTHENTICATED_AT] = time.time()
            security_event("reauth.succeeded", request=request)
            return redirect(next_url)
        security_event("reauth.failed", request=request, level=logging.WARNING)
        form.add_error("password", "That is not your password.")
    minutes = settings.REAUTH_SECONDS // 60
    return render(
        request,
        "accounts/reauth.html",
        {"form": form, "next": next_url, "minutes": minutes},
        status=200 if not form.errors else 400,
    )
