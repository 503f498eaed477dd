"""The change history in the admin: read by auditors and Staff, never reverted."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from risks.services import mitigation_update, risk_update
from roadmap.services import key_action_update, metric_update
from tests.factories import (
    KeyActionFactory,
    MetricFactory,
    MetricReadingFactory,
    MitigationActionFactory,
    RiskFactory,
)

pytestmark = pytest.mark.django_db

FACTORIES = {
    "risks.risk": RiskFactory,
    "risks.mitigationaction": MitigationActionFactory,
    "roadmap.keyaction": KeyActionFactory,
    "roadmap.metric": MetricFactory,
    "roadmap.metricreading": MetricReadingFactory,
}


def history_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=(obj.pk,))


def version_url(obj, record) -> str:
    opts = obj._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_simple_history"
    return reverse(name, args=(obj.pk, record.history_id))


@pytest.mark.parametrize("model", FACTORIES)
@pytest.mark.parametrize("persona", ["auditor", "staff_member"])
def test_auditors_and_staff_read_the_history(client, request, model, persona):
    obj = FACTORIES[model]()
    client.force_login(request.getfixturevalue(persona))
    assert client.get(history_url(obj)).status_code == HTTPStatus.OK


def test_the_auditor_sees_each_field_changed_through_risk_update(client, auditor, staff_member):
    risk = RiskFactory(code="R1", owner="Jane Doe")
    risk_update(risk=risk, user=staff_member, owner="John Roe")
    client.force_login(auditor)

    response = client.get(history_url(risk))

    assert response.status_code == HTTPStatus.OK
    assert "<strong>Owner:</strong>" in response.text
    assert "Jane Doe" in response.text
    assert "John Roe" in response.text


def test_an_old_version_is_shown_without_a_revert_button(client, auditor, staff_member):
    risk = RiskFactory(code="R1", owner="Jane Doe")
    risk_update(risk=risk, user=staff_member, owner="John Roe")
    client.force_login(auditor)

    response = client.get(version_url(risk, risk.history.earliest()))

    assert response.status_code == HTTPStatus.OK
    assert 'value="Revert"' not in response.text


def _old_version_post(client, obj, record) -> dict:
    """The old version's form as the browser would post it, without the version check."""
    form = client.get(version_url(obj, record)).context["adminform"].form
    return {
        name: form[name].value()
        for name in form.fields
        if form[name].value() is not None and name != "expected_version"
    }


@pytest.mark.parametrize("persona", ["auditor", "staff_member"])
def test_nobody_reverts_a_mitigation_to_an_old_version(client, request, staff_member, persona):
    # simple-history's revert would save the old copy for anyone who may view the record.
    mitigation = MitigationActionFactory(title="Original")
    mitigation_update(mitigation=mitigation, user=staff_member, title="Current")
    client.force_login(request.getfixturevalue(persona))
    old = mitigation.history.earliest()
    data = _old_version_post(client, mitigation, old)

    response = client.post(version_url(mitigation, old), data)

    assert response.status_code == HTTPStatus.FORBIDDEN
    mitigation.refresh_from_db()
    assert (mitigation.title, mitigation.history.count()) == ("Current", 2)


@pytest.mark.parametrize(
    ("factory", "update", "field"),
    [
        (
            KeyActionFactory,
            lambda obj, user: key_action_update(key_action=obj, user=user, title="New"),
            "title",
        ),
        (
            MetricFactory,
            lambda obj, user: metric_update(metric=obj, user=user, unit="Tonnes"),
            "unit",
        ),
    ],
)
def test_the_auditor_cannot_revert_the_plan(client, auditor, staff_member, factory, update, field):
    obj = factory()
    update(obj, staff_member)
    current = getattr(obj, field)
    client.force_login(auditor)
    old = obj.history.earliest()

    response = client.post(version_url(obj, old), _old_version_post(client, obj, old))

    assert response.status_code == HTTPStatus.FORBIDDEN
    obj.refresh_from_db()
    assert getattr(obj, field) == current
