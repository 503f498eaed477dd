"""`make token USER=<username>`: a new API token for a user, printed as the last line."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print its key as the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")
        parser.add_argument("--days", type=int, default=None, help="Days until it expires.")

    def handle(self, *args, username: str, name: str, days: int | None, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        token, key = token_create(user=user, name=name or "command line", days=days)
        self.stderr.write(
            f"Token '{token.name}' for {username}, expires {token.expiry:%Y-%m-%d %H:%M} UTC. "
            "Header: Authorization: Token <key>. The key is not stored: keep it now."
        )
        self.stdout.write(key)
