"""New key actions, on their own add page or in the phase's inline, go through
roadmap.services.key_action_create."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

import roadmap.admin
from roadmap.models import KeyAction, Phase
from roadmap.services import key_action_create
from tests.factories import AgencyFactory, PhaseFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "position": 7,
    "title": "Convene the precursor working group",
    "lead_actor": "ONDCP/NSC",
    "timeline": "Months 3-9",
    "start_month": 3,
    "end_month": 9,
    "success_metric": "Working group meets monthly",
    "status": "not_started",
}


@pytest.fixture
def created(monkeypatch):
    """The key actions the admin created through the service."""
    calls = []

    def spy(**kwargs):
        calls.append(kwargs["user"])
        return key_action_create(**kwargs)

    monkeypatch.setattr(roadmap.admin, "key_action_create", spy)
    return calls


@pytest.fixture
def leads(db):
    return [AgencyFactory(code="ONDCP"), AgencyFactory(code="NSC")]


def test_a_key_action_added_on_its_page_goes_through_the_service(
    staff_client, staff_member, created, leads
):
    phase = PhaseFactory(number=1)
    data = {**FIELDS, "phase": phase.pk, "lead_agencies": [agency.pk for agency in leads]}

    response = staff_client.post(reverse("admin:roadmap_keyaction_add"), data)

    assert response.status_code == HTTPStatus.FOUND
    assert created == [staff_member]
    action = KeyAction.objects.get(title=FIELDS["title"])
    assert set(action.lead_agencies.all()) == set(leads)
    assert action.history.get().history_user == staff_member


def test_a_key_action_added_in_the_phase_inline_goes_through_the_service(
    staff_client, staff_member, created, leads
):
    phase = PhaseFactory(number=1)
    page = staff_client.get(reverse("admin:roadmap_phase_change", args=(phase.pk,)))
    data = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for name in form.fields:
            if form[name].value() is not None:
                data[form.add_prefix(name)] = form[name].value()
    data.update({f"key_actions-0-{name}": value for name, value in FIELDS.items()})
    data["key_actions-0-lead_agencies"] = [agency.pk for agency in leads]
    data["key_actions-TOTAL_FORMS"] = 1

    response = staff_client.post(reverse("admin:roadmap_phase_change", args=(phase.pk,)), data)

    assert response.status_code == HTTPStatus.FOUND
    assert created == [staff_member]
    action = phase.key_actions.get()
    assert (action.title, set(action.lead_agencies.all())) == (FIELDS["title"], set(leads))


def test_the_service_checks_the_key_action_before_saving(staff_member, leads):
    phase = PhaseFactory(number=1)
    with pytest.raises(ValidationError):
        key_action_create(user=staff_member, phase=phase, **{**FIELDS, "end_month": 1})
    assert not KeyAction.objects.exists()

    action = key_action_create(user=staff_member, phase=phase, lead_agencies=leads, **FIELDS)
    assert (action.phase, action.version, action.lead_agencies.count()) == (phase, 1, 2)
    assert Phase.objects.get().key_actions.get() == action
