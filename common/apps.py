from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Plumbing both apps share; it imports neither of them."""

    name = "common"
