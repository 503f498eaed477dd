"""Demo users for `make demo`: one per group, plus an administrator. Never for production."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEMO_USERS = [
    # username, group, may use the admin, password
    ("staff", "Staff", True, "staff-demo-2026"),
    ("board", "Board", False, "board-demo-2026"),
    ("auditor", "Auditor", True, "auditor-demo-2026"),
]
ADMIN = ("admin", "admin-demo-2026")


class Command(BaseCommand):
    help = "Create the demo users board, staff, auditor and admin (DEBUG only)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo users are for the demo only: set DJANGO_DEBUG=1.")
        User = get_user_model()
        rows = []
        # A user who already exists is left as it is: a second `make demo` never resets a
        # password or a group someone changed.
        for username, group, is_staff, password in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.email = f"{username}@demo.example.gov"
                user.is_staff = is_staff
                user.set_password(password)
                user.save()
                user.groups.set([Group.objects.get(name=group)])
            rows.append((username, group, password if created else "(kept, unchanged)"))
        username, password = ADMIN
        admin, created = User.objects.get_or_create(username=username)
        if created:
            admin.email = "admin@demo.example.gov"
            admin.is_staff = admin.is_superuser = True
            admin.set_password(password)
            admin.save()
        rows.append((username, "superuser", password if created else "(kept, unchanged)"))

        self.stdout.write("Demo users (demo only, passwords are public):")
        for username, group, password in rows:
            self.stdout.write(f"  {username:<8} {group:<10} password: {password}")
        if settings.MFA_REQUIRED:
            self.stdout.write(
                "Second factor: required (DJANGO_MFA_REQUIRED). staff, auditor and admin set "
                "up an authenticator app at their first sign-in."
            )
        else:
            self.stdout.write(
                "Second factor: off in the demo (DJANGO_MFA_REQUIRED is off with debug on). "
                "Run with DJANGO_MFA_REQUIRED=1 to try it; anyone may set one up at "
                "/accounts/mfa/."
            )
