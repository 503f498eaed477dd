"""The plan's admin: every page renders for staff, lists stay cheap, autocomplete answers."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from risks.models import IndicatorBreach
from roadmap.models import (
    FundingLine,
    GovernanceBody,
    InfrastructureRequirement,
    KeyAction,
    LegislativeRequirement,
    Metric,
    MetricReading,
    PersonnelRequirement,
    PhaseObjective,
)
from roadmap.services import key_action_update
from tests.factories import (
    AgencyFactory,
    IndicatorFactory,
    KeyActionFactory,
    MetricReadingFactory,
    MetricTargetFactory,
    PhaseFactory,
)

pytestmark = pytest.mark.django_db

ROADMAP_MODELS = [model for model in admin.site._registry if model._meta.app_label == "roadmap"]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:roadmap_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def plan(db):
    """One of every part of the plan."""
    state = AgencyFactory(code="STATE")
    AgencyFactory(code="INL", parent=state)
    phase = PhaseFactory(number=1)
    PhaseObjective.objects.create(phase=phase, text="Build the coalition.")
    LegislativeRequirement.objects.create(phase=phase, text="Amend the statute.")
    PersonnelRequirement.objects.create(phase=phase, text="Ten analysts.")
    FundingLine.objects.create(phase=phase, label="Phase 1", estimated_cost="$1M")
    InfrastructureRequirement.objects.create(area="Data", text="A warehouse.", funded_by=state)
    GovernanceBody.objects.create(name="Board", responsibilities="Oversight.")
    KeyActionFactory(phase=phase, lead_agencies=[state])
    metric = MetricTargetFactory().metric
    MetricReadingFactory(metric=metric)
    return phase


@pytest.fixture
def staff_admin(client, staff_member):
    client.force_login(staff_member)
    return client


@pytest.mark.parametrize("model", ROADMAP_MODELS, ids=lambda m: m._meta.model_name)
def test_every_roadmap_page_renders_for_staff(staff_admin, seed, model):
    MetricReadingFactory(metric=Metric.objects.first())  # the seed has no readings yet
    assert staff_admin.get(url(model, "changelist")).status_code == HTTPStatus.OK
    obj = model.objects.first()
    assert staff_admin.get(url(model, "change", obj.pk)).status_code == HTTPStatus.OK
    assert staff_admin.get(url(model, "add")).status_code == HTTPStatus.OK


def test_key_action_list_shows_lead_agencies_without_a_query_per_row(staff_admin, plan):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = staff_admin.get(url(KeyAction, "changelist"))
        assert "ONDCP, STATE" in response.text
        return len(queries)

    two_leads = [AgencyFactory(code="ONDCP"), AgencyFactory(code="STATE")]
    KeyActionFactory.create_batch(2, phase=plan, lead_agencies=two_leads)
    few = count_queries()
    KeyActionFactory.create_batch(15, phase=plan, lead_agencies=two_leads)
    assert count_queries() == few


def test_phase_page_lists_its_key_actions_with_links(staff_admin, plan):
    action = KeyAction.objects.get(phase=plan)
    response = staff_admin.get(url(type(plan), "change", plan.pk))
    assert url(KeyAction, "change", action.pk) in response.text
    assert "Build the coalition." in response.text


def test_agency_autocomplete_answers_by_code_or_name(staff_admin, plan):
    response = staff_admin.get(
        reverse("admin:autocomplete"),
        {"app_label": "risks", "model_name": "risk", "field_name": "owner_agency", "term": "inl"},
    )
    assert response.status_code == HTTPStatus.OK
    assert [result["text"] for result in response.json()["results"]] == ["INL"]


def test_a_reading_added_on_the_metric_records_who(staff_admin, staff_member, plan):
    metric = Metric.objects.get()
    readings = metric.readings.count()
    data = {
        "name": metric.name,
        "position": metric.position,
        "unit": metric.unit,
        "milestone_year": metric.milestone_year,
        "direction": metric.direction,
        "baseline": metric.baseline,
        "expected_version": metric.version,
        "targets-TOTAL_FORMS": 0,
        "targets-INITIAL_FORMS": 0,
        "readings-TOTAL_FORMS": 1,
        "readings-INITIAL_FORMS": 0,
        "readings-0-observed_on": "2027-03-31",
        "readings-0-value": "12",
        "readings-0-source": "Quarterly report",
    }

    response = staff_admin.post(url(Metric, "change", metric.pk), data)

    assert response.status_code == HTTPStatus.FOUND
    assert metric.readings.count() == readings + 1
    assert metric.readings.get(observed_on="2027-03-31").recorded_by == staff_member


def test_a_reading_added_in_the_admin_checks_the_risk_indicators(staff_admin, plan):
    indicator = IndicatorFactory(comparison="above", threshold=100)
    data = {
        "metric": indicator.metric.pk,
        "observed_on": "2027-03-31",
        "value": "101",
        "source": "Quarterly report",
    }

    response = staff_admin.post(url(MetricReading, "add"), data)

    assert response.status_code == HTTPStatus.FOUND
    assert IndicatorBreach.objects.get().indicator == indicator


def test_a_key_action_saved_from_an_out_of_date_page_is_refused(staff_admin, staff_member, plan):
    action = KeyAction.objects.get(phase=plan)
    page = staff_admin.get(url(KeyAction, "change", action.pk))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    key_action_update(key_action=action, user=staff_member, status="delayed")  # meanwhile
    data["title"] = "Stale title"

    response = staff_admin.post(url(KeyAction, "change", action.pk), data)

    assert response.status_code == HTTPStatus.OK
    assert "Reload it and apply your change again." in response.text
    action.refresh_from_db()
    assert action.title != "Stale title"
    assert action.status == "delayed"


def test_a_key_action_saved_from_a_current_page_is_saved(staff_admin, plan):
    action = KeyAction.objects.get(phase=plan)
    page = staff_admin.get(url(KeyAction, "change", action.pk))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["title"] = "Renamed"

    assert (
        staff_admin.post(url(KeyAction, "change", action.pk), data).status_code == HTTPStatus.FOUND
    )
    action.refresh_from_db()
    assert (action.title, action.version) == ("Renamed", 2)
