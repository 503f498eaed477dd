"""Django's ModelBackend, with each user's permissions kept in the shared cache.

Every page checks permissions, and ModelBackend reads them with two queries (the user's own
and their groups') on every request. They are kept under the "auth" version
(common/cache.py), which any change to who may do what moves at once (a user, group or
permission saved, deleted or relinked: accounts/signals.py), as for the API's remembered
tokens. With STATE_CACHE off (one process's memory) nothing is kept."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from accounts.authentication import AUTH_STATE
from common import cache as state_cache


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if (
            obj is None
            and user_obj.is_active
            and not user_obj.is_anonymous
            and not hasattr(user_obj, "_perm_cache")
        ):
            user_obj._perm_cache = state_cache.cached(
                AUTH_STATE,
                ("permissions", user_obj.pk),
                lambda: set(ModelBackend.get_all_permissions(self, user_obj)),
            )
        return super().get_all_permissions(user_obj, obj)
