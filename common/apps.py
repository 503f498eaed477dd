from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Plumbing both apps share; it imports neither of them."""

    name = "common"

    def ready(self) -> None:
        # Registers the signing key's system check.
        from common import signing  # noqa: F401
