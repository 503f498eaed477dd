"""`make demo` twice keeps every edit: the seed goes only into an empty register."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from risks.models import Risk
from risks.services import risk_assess

pytestmark = pytest.mark.django_db


def test_second_seed_keeps_an_edit_made_in_between(staff_member, settings, capsys):
    settings.DEBUG = True  # create_demo_users is for the demo only
    call_command("seed_demo")
    call_command("create_demo_users")
    r4 = Risk.objects.get(code="R4")
    risk_assess(risk=r4, likelihood=3, impact=5, rationale="Re-rated", user=staff_member)
    r4.refresh_from_db()
    version, score = r4.version, r4.score

    call_command("seed_demo")
    call_command("create_demo_users")

    r4.refresh_from_db()
    assert (r4.version, r4.score) == (version, score) == (version, 15)
    assert "was not loaded again" in capsys.readouterr().out


def test_second_run_keeps_a_changed_demo_password(settings):
    settings.DEBUG = True
    call_command("create_demo_users", stdout=None)
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.get(username="staff")
    staff.set_password("a-new-long-passphrase-2026")
    staff.save()
    call_command("create_demo_users")
    staff.refresh_from_db()
    assert staff.check_password("a-new-long-passphrase-2026")
