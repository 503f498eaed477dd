"""Administrators see every API token (never its key) and revoke any of them."""

from __future__ import annotations

from django.contrib import admin

from accounts import services
from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created", "expiry", "last_used_at"]
    list_filter = ["created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username"]
    fields = ["name", "user", "created", "expiry", "last_used_at"]
    readonly_fields = fields
    actions = ["delete_selected"]

    def has_add_permission(self, request) -> bool:
        # A key is shown once, to its owner: tokens are made on /accounts/tokens/ or by
        # `make token USER=...`, not here.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        services.token_revoke(token=obj, by=request.user, request=request)

    def delete_queryset(self, request, queryset) -> None:
        for token in queryset.select_related("user"):
            services.token_revoke(token=token, by=request.user, request=request)
