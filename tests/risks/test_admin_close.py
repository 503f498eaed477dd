"""Closing a risk from its admin page: with a reason, never with an active contingency."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib import admin
from django.urls import reverse

from risks.models import Risk
from risks.services import risk_close
from tests.factories import RiskFactory, TriggerEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "The appropriation passed; the risk has not materialised."


def close_url(risk: Risk) -> str:
    return reverse("admin:risks_risk_close", args=(risk.pk,))


def change_page(risk: Risk) -> str:
    return reverse("admin:risks_risk_change", args=(risk.pk,))


@pytest.fixture
def risk(db):
    return RiskFactory(code="R1")


def test_closing_with_a_reason_records_it_with_who_and_when(staff_client, staff_member, risk):
    assert close_url(risk) in staff_client.get(change_page(risk)).text
    assert staff_client.get(close_url(risk)).status_code == HTTPStatus.OK

    response = staff_client.post(close_url(risk), {"closure_reason": REASON}, follow=True)

    assert response.redirect_chain == [(change_page(risk), HTTPStatus.FOUND)]
    assert "R1 is closed." in response.text
    risk.refresh_from_db()
    assert (risk.status, risk.closure_reason, risk.closed_by) == ("closed", REASON, staff_member)
    assert risk.closed_at is not None
    assert risk.history.first().history_user == staff_member


def test_a_closed_risk_shows_its_closure_read_only_and_no_close_button(
    staff_client, staff_member, risk
):
    risk_close(risk=risk, reason=REASON, user=staff_member)

    response = staff_client.get(change_page(risk))

    form = response.context["adminform"].form
    assert not {"closure_reason", "closed_by", "closed_at", "status"} & set(form.fields)
    closed = next(fieldset for fieldset in response.context["adminform"] if fieldset.name)
    assert closed.name == "Closed"
    assert REASON in response.text
    assert staff_member.username in response.text
    assert close_url(risk) not in response.text


def test_closing_without_a_reason_shows_an_error_and_changes_nothing(staff_client, risk):
    response = staff_client.post(close_url(risk), {"closure_reason": " "})

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors == {
        "closure_reason": ["This field is required."]
    }
    risk.refresh_from_db()
    assert risk.status == Risk.Status.OPEN


def test_a_risk_with_an_active_contingency_cannot_be_closed(staff_client, staff_member, risk):
    TriggerEntryFactory(risk=risk, recorded_by=staff_member)

    response = staff_client.post(close_url(risk), {"closure_reason": REASON})

    assert response.status_code == HTTPStatus.OK
    assert "Stand down the active contingency before closing the risk." in response.text
    risk.refresh_from_db()
    assert (risk.status, risk.closure_reason) == (Risk.Status.CONTINGENCY_ACTIVE, "")


def test_closing_a_closed_risk_again_is_refused(staff_client, staff_member, risk):
    risk_close(risk=risk, reason=REASON, user=staff_member)

    response = staff_client.post(close_url(risk), {"closure_reason": "Again."})

    assert "This risk is already closed." in response.text
    risk.refresh_from_db()
    assert risk.closure_reason == REASON


@pytest.mark.parametrize("persona", ["auditor", "board_member", "outsider"])
def test_only_staff_may_close(client, request, risk, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(close_url(risk)).status_code == HTTPStatus.FORBIDDEN
    response = client.post(close_url(risk), {"closure_reason": REASON})
    assert response.status_code == HTTPStatus.FORBIDDEN
    risk.refresh_from_db()
    assert risk.status == Risk.Status.OPEN


def test_there_is_no_bulk_close_action(rf):
    # Closing needs a reason per risk, so the changelist offers no "close selected".
    request = rf.get("/")
    request.user = UserFactory(username="root", is_staff=True, is_superuser=True)
    actions = admin.site._registry[Risk].get_actions(request)
    assert not [name for name in actions if "close" in name]
