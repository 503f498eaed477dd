from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Plumbing both apps share; it imports neither of them."""

    name = "common"

    def ready(self) -> None:
        from django.contrib import admin

        from common import checks, signing  # noqa: F401  (they register system checks)
        from common.admin import bound_date_hierarchies

        # The admin app (first in INSTALLED_APPS) has registered every admin by now.
        bound_date_hierarchies(admin.site)
