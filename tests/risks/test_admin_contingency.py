"""Invoking, updating and standing down a contingency from the risk's admin page."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from risks.models import Risk, TriggerEntry
from tests.factories import RiskFactory, TriggerEntryFactory

pytestmark = pytest.mark.django_db

INVOKE, UPDATE, STAND_DOWN = "invoke_contingency", "contingency_update", "stand_down"
ENTRY = {
    "reason": "Two committees cut the line.",
    "evidence": "Markup of 12 March.",
    "actions_taken": "Bridge funding requested.",
    "authorised_by": "Deputy Director",
}


def url(view: str, risk: Risk) -> str:
    return reverse(f"admin:risks_risk_{view}", args=(risk.pk,))


def change_page(risk: Risk) -> str:
    return reverse("admin:risks_risk_change", args=(risk.pk,))


@pytest.fixture
def risk(db):
    return RiskFactory(code="R1", status=Risk.Status.MONITORING)


@pytest.fixture
def active(risk, staff_member):
    TriggerEntryFactory(risk=risk, recorded_by=staff_member)
    risk.refresh_from_db()
    return risk


def test_the_risk_page_offers_invoke_only_while_no_contingency_is_active(staff_client, risk):
    page = staff_client.get(change_page(risk)).text
    assert url(INVOKE, risk) in page
    assert url(UPDATE, risk) not in page
    assert url(STAND_DOWN, risk) not in page


def test_an_active_contingency_offers_update_and_stand_down(staff_client, active):
    page = staff_client.get(change_page(active)).text
    assert url(INVOKE, active) not in page
    assert url(UPDATE, active) in page
    assert url(STAND_DOWN, active) in page


def test_the_form_is_an_admin_page_with_the_plan_and_a_csrf_token(staff_client, risk):
    response = staff_client.get(url(INVOKE, risk))
    assert response.status_code == HTTPStatus.OK
    assert 'class="breadcrumbs"' in response.text
    assert "csrfmiddlewaretoken" in response.text
    assert risk.contingency_plan in response.text
    assert "<script>" not in response.text  # the CSP allows no inline script


def test_invoking_writes_one_entry_and_activates_the_contingency(staff_client, staff_member, risk):
    response = staff_client.post(url(INVOKE, risk), ENTRY, follow=True)

    assert response.redirect_chain == [(change_page(risk), HTTPStatus.FOUND)]
    assert "Contingency invoked for R1: trigger log entry #1." in response.text
    entry = TriggerEntry.objects.get()
    assert (entry.kind, entry.risk, entry.recorded_by) == ("invoked", risk, staff_member)
    assert {name: getattr(entry, name) for name in ENTRY} == ENTRY
    risk.refresh_from_db()
    assert risk.status == Risk.Status.CONTINGENCY_ACTIVE


def test_invoking_again_is_refused_with_a_message_and_writes_nothing(staff_client, active):
    response = staff_client.post(url(INVOKE, active), ENTRY)

    assert response.status_code == HTTPStatus.OK
    assert "The contingency for R1 is already active." in response.text
    assert ENTRY["evidence"] in response.text  # what was typed is kept
    assert TriggerEntry.objects.count() == 1


def test_a_missing_reason_is_a_field_error_and_writes_nothing(staff_client, risk):
    response = staff_client.post(url(INVOKE, risk), {**ENTRY, "reason": "  "})

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors == {"reason": ["This field is required."]}
    assert not TriggerEntry.objects.exists()
    risk.refresh_from_db()
    assert risk.status == Risk.Status.MONITORING


def test_an_update_is_logged_and_the_contingency_stays_active(staff_client, active):
    response = staff_client.post(url(UPDATE, active), {"reason": "Bridge funding agreed."})

    assert response.status_code == HTTPStatus.FOUND
    latest = TriggerEntry.objects.latest("sequence")
    assert (latest.kind, latest.reason) == ("update", "Bridge funding agreed.")
    active.refresh_from_db()
    assert active.status == Risk.Status.CONTINGENCY_ACTIVE


def test_standing_down_restores_the_status_before_the_invocation(staff_client, active):
    response = staff_client.post(url(STAND_DOWN, active), {"reason": "Funding restored."})

    assert response.status_code == HTTPStatus.FOUND
    assert TriggerEntry.objects.latest("sequence").kind == "stood_down"
    active.refresh_from_db()
    assert active.status == Risk.Status.MONITORING


def test_standing_down_with_nothing_active_is_refused(staff_client, risk):
    response = staff_client.post(url(STAND_DOWN, risk), {"reason": "All clear."})

    assert response.status_code == HTTPStatus.OK
    assert "No contingency is active for R1." in response.text
    assert not TriggerEntry.objects.exists()


@pytest.mark.parametrize("view", [INVOKE, UPDATE, STAND_DOWN])
@pytest.mark.parametrize("persona", ["auditor", "board_member", "outsider"])
def test_only_staff_may_use_the_contingency_forms(client, request, active, view, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(url(view, active)).status_code == HTTPStatus.FORBIDDEN
    assert client.post(url(view, active), ENTRY).status_code == HTTPStatus.FORBIDDEN
    assert TriggerEntry.objects.count() == 1


def test_auditors_see_no_contingency_buttons(client, auditor, risk):
    client.force_login(auditor)
    page = client.get(change_page(risk))
    assert page.status_code == HTTPStatus.OK
    assert url(INVOKE, risk) not in page.text


def test_a_post_without_the_csrf_token_is_refused(staff_member, risk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_member)
    assert client.post(url(INVOKE, risk), ENTRY).status_code == HTTPStatus.FORBIDDEN
    assert not TriggerEntry.objects.exists()
