"""Every history row says why it was written: the service, the assessment's rationale, or
the trigger log entry that changed the status."""

from __future__ import annotations

import pytest

from risks import services
from risks.models import Risk
from roadmap.services import key_action_update
from tests.factories import AgencyFactory, KeyActionFactory, MitigationActionFactory, RiskFactory

pytestmark = pytest.mark.django_db


def _reasons(obj) -> list[str | None]:
    return list(
        obj.history.order_by("history_date", "history_id").values_list(
            "history_change_reason", flat=True
        )
    )


def test_assessment_rationale_in_full(staff_member):
    risk = RiskFactory(code="R1")
    rationale = "Funding lapsed in two agencies; " * 10  # longer than simple-history's 100
    assessment = services.risk_assess(
        risk=risk, likelihood=5, impact=4, rationale=rationale, user=staff_member
    )
    latest = risk.history.latest()
    assert latest.history_change_reason == f"Assessment #{assessment.pk}: {rationale.strip()}"
    assert latest.history_user == staff_member


def test_service_names_and_trigger_entries(staff_member):
    risk = RiskFactory(code="R1")
    services.risk_update(risk=risk, user=staff_member, title="Renamed")
    entry = services.contingency_invoke(risk=risk, user=staff_member, reason="Stalled.")
    services.contingency_stand_down(risk=risk, user=staff_member, reason="Resolved.")
    services.risk_close(risk=risk, user=staff_member, reason="Retired by the board.")
    assert _reasons(risk)[-4:] == [
        "risk_update",
        f"Contingency invoked: trigger log entry #{entry.sequence}",
        f"Stood down: trigger log entry #{entry.sequence + 1}",
        "risk_close: Retired by the board.",
    ]


def test_created_risk_names_its_creator_and_first_assessment(staff_member):
    template = RiskFactory.build(owner_agency=AgencyFactory())
    fields = {
        f.name: getattr(template, f.name)
        for f in Risk._meta.concrete_fields
        if not f.auto_created and f.name not in ("version", "created_at", "updated_at")
    }
    fields.update(code="R9", score=None)
    fields.pop("id", None)
    risk = services.risk_create(user=staff_member, rationale="First look.", **fields)
    rows = list(risk.history.order_by("history_date", "history_id"))
    assert rows[0].history_change_reason == "risk_create"
    assert rows[0].history_user == staff_member
    assert rows[-1].history_change_reason.endswith(": First look.")


def test_other_services(staff_member):
    mitigation = MitigationActionFactory()
    services.mitigation_update(mitigation=mitigation, user=staff_member, percent_complete=10)
    assert _reasons(mitigation)[-1] == "mitigation_update"
    action = KeyActionFactory()
    key_action_update(key_action=action, user=staff_member, status="delayed")
    assert _reasons(action)[-1] == "key_action_update"
