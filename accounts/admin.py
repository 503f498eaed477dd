"""Administrators see every API token (never its key) and revoke any of them, and every
second-factor device (never its secret) and reset any of them."""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnAttestation, WebAuthnCredential

from accounts import services
from accounts.models import ApiToken
from common.admin import RemovedThroughServiceAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(RemovedThroughServiceAdmin):
    list_display = ["name", "user", "created", "expiry", "last_used_at"]
    list_filter = ["created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    fields = ["name", "user", "created", "expiry", "last_used_at"]
    readonly_fields = fields

    # A key is shown once, to its owner: tokens are made on /accounts/tokens/ or by
    # `make token USER=...`, not here.
    def remove(self, request, obj) -> None:
        services.token_revoke(token=obj, by=request.user, request=request)


# django-otp's own admins show a TOTP secret on the add page and let an administrator make a
# device with a secret they chose (and so sign in as its user); static tokens are recovery
# codes. Ours list devices without any secret, and deleting one resets that user's second
# factor: they enrol again at their next sign-in.
# django-otp-webauthn's admin lets an administrator move a key to another user; ours lists
# keys read-only, and deleting one removes it (logged), as its owner can on /accounts/mfa/.
for model in (TOTPDevice, StaticDevice, WebAuthnCredential, WebAuthnAttestation):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(TOTPDevice)
class SecondFactorAdmin(RemovedThroughServiceAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def remove(self, request, obj) -> None:
        services.mfa_reset(user=obj.user, by=request.user, request=request)


@admin.register(WebAuthnCredential)
class SecurityKeyAdmin(RemovedThroughServiceAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at", "transports"]
    readonly_fields = fields

    def remove(self, request, obj) -> None:
        services.mfa_key_remove(user=obj.user, pk=obj.pk, by=request.user, request=request)
