"""Rating changes go through risk_assess: every change is an Assessment."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from risks.models import Assessment, Risk
from risks.services import risk_assess, risk_close, risk_create
from tests.factories import AgencyFactory, RiskFactory

pytestmark = pytest.mark.django_db


def test_assess_records_assessment_and_updates_current_rating(staff_member):
    risk = RiskFactory(likelihood=3, impact=3)

    assessment = risk_assess(
        risk=risk, likelihood=5, impact=4, rationale="Hearing went badly.", user=staff_member
    )

    risk.refresh_from_db()
    assert (risk.likelihood, risk.impact, risk.score) == (5, 4, 20)
    assert assessment.assessed_by == staff_member
    assert assessment.rationale == "Hearing went badly."
    assert risk.assessments.count() == 2


def test_assess_sets_next_review_from_the_band(staff_member):
    risk = RiskFactory()
    risk_assess(risk=risk, likelihood=5, impact=5, rationale="Worse.", user=staff_member)
    risk.refresh_from_db()
    # Critical band: reviewed every 30 days.
    assert risk.next_review_due == timezone.localdate() + datetime.timedelta(days=30)


def test_assess_without_rationale_changes_nothing(staff_member):
    risk = RiskFactory(likelihood=3, impact=3)

    with pytest.raises(ValidationError) as excinfo:
        risk_assess(risk=risk, likelihood=5, impact=5, rationale="  ", user=staff_member)

    assert "rationale" in excinfo.value.message_dict
    risk.refresh_from_db()
    assert (risk.likelihood, risk.impact) == (3, 3)
    assert risk.assessments.count() == 1


@pytest.mark.parametrize(("likelihood", "impact"), [(0, 3), (6, 3), (3, 0), (3, 6)])
def test_assess_refuses_levels_outside_the_scale(staff_member, likelihood, impact):
    risk = RiskFactory()
    with pytest.raises(ValidationError):
        risk_assess(
            risk=risk, likelihood=likelihood, impact=impact, rationale="x", user=staff_member
        )
    assert Assessment.objects.filter(risk=risk).count() == 1


def test_create_writes_first_assessment(staff_member):
    risk = risk_create(
        user=staff_member,
        rationale="New risk identified at the March meeting.",
        code="R9",
        title="Budget sequestration",
        statement="Cause, event, consequence.",
        category=Risk.Category.FINANCIAL,
        owner="A. Person",
        owner_agency=AgencyFactory(code="OMB"),
        likelihood=2,
        impact=4,
        target_likelihood=1,
        target_impact=3,
        mitigation_strategy="Plan.",
        contingency_plan="Respond.",
    )
    assert risk.score == 8
    assert risk.assessments.get().rationale == "New risk identified at the March meeting."


def test_close_needs_a_reason_and_keeps_history(staff_member):
    risk = RiskFactory()
    with pytest.raises(ValidationError):
        risk_close(risk=risk, reason="", user=staff_member)

    risk_close(risk=risk, reason="Legislation passed.", user=staff_member)

    risk.refresh_from_db()
    assert risk.status == Risk.Status.CLOSED
    assert risk.closed_by == staff_member
    assert risk.assessments.exists()
    with pytest.raises(ValidationError):
        risk_assess(risk=risk, likelihood=1, impact=1, rationale="x", user=staff_member)


@pytest.mark.parametrize("status", ["contingency_active", "closed"])
def test_update_cannot_set_workflow_statuses(staff_member, status):
    from risks.services import risk_update

    risk = RiskFactory()
    with pytest.raises(ValidationError) as excinfo:
        risk_update(risk=risk, user=staff_member, status=status)
    assert "status" in excinfo.value.message_dict


def test_update_cannot_leave_an_active_contingency_without_standing_down(staff_member):
    from risks.services import contingency_invoke, risk_update

    risk = RiskFactory()
    contingency_invoke(risk=risk, user=staff_member, reason="Bill failed in committee.")
    risk.refresh_from_db()
    with pytest.raises(ValidationError):
        risk_update(risk=risk, user=staff_member, status=Risk.Status.OPEN)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.CONTINGENCY_ACTIVE
