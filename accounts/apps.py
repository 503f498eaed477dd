from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self) -> None:
        # Security events (sign-in success, failure, lockout) are logged by receivers; the
        # token header is described in the OpenAPI schema by an extension.
        from accounts import schema, signals  # noqa: F401

        signals.connect_access_changes()
