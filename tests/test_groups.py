"""Each group can do what it should and nothing more."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db

REGISTER = ["risks.risk", "risks.assessment", "risks.mitigationaction"]
ROADMAP = ["roadmap.keyaction", "roadmap.phase", "roadmap.metric", "roadmap.metricreading"]


def test_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Board", "Staff", "Auditor"}


@pytest.mark.parametrize("model", REGISTER + ROADMAP)
def test_staff_add_change_and_view_but_never_delete(staff_member, model):
    app, name = model.split(".")
    assert staff_member.has_perm(f"{app}.add_{name}")
    assert staff_member.has_perm(f"{app}.change_{name}")
    assert staff_member.has_perm(f"{app}.view_{name}")
    assert not staff_member.has_perm(f"{app}.delete_{name}")


@pytest.mark.parametrize("persona", ["board_member", "auditor"])
@pytest.mark.parametrize("model", REGISTER + ROADMAP)
def test_board_and_auditor_only_view(request, persona, model):
    user = request.getfixturevalue(persona)
    app, name = model.split(".")
    assert user.has_perm(f"{app}.view_{name}")
    for action in ("add", "change", "delete"):
        assert not user.has_perm(f"{app}.{action}_{name}")


def test_staff_cannot_change_the_rating_scale(staff_member):
    assert staff_member.has_perm("risks.view_ratingband")
    assert not staff_member.has_perm("risks.change_ratingband")
    assert not staff_member.has_perm("risks.change_riskappetite")


def test_outsider_has_no_permissions(outsider):
    assert not outsider.get_all_permissions()


def test_only_superuser_deletes_a_risk(admin_user, staff_member):
    assert admin_user.has_perm("risks.delete_risk")
    assert not staff_member.has_perm("risks.delete_risk")
