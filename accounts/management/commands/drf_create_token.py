"""The first contract's `python manage.py drf_create_token <user>`, kept working: it now
makes an expiring, hashed token like `create_token` and prints its key as the last line."""

from accounts.management.commands.create_token import Command as CreateToken


class Command(CreateToken):
    help = "Same as create_token (kept for the original command name)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "-r", "--reset", action="store_true", help="Revoke the user's other tokens first."
        )

    def handle(self, *args, username: str, reset: bool = False, **options) -> None:
        if reset:
            from django.contrib.auth import get_user_model

            from accounts.services import tokens_revoke_all

            user = get_user_model().objects.filter(username=username).first()
            if user is not None:
                tokens_revoke_all(user=user)
        super().handle(*args, username=username, **options)
