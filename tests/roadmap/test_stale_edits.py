"""Two people open the same record and both save: the second save is refused with what
changed, and nothing is written."""

from __future__ import annotations

import pytest

from common.versions import StaleEdit
from risks.models import Risk
from risks.services import mitigation_update, risk_assess, risk_update
from roadmap.services import key_action_update, metric_update
from tests.factories import (
    KeyActionFactory,
    MetricFactory,
    MitigationActionFactory,
    RiskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_second_save_of_the_same_version_is_refused_with_the_change(staff_member):
    other = UserFactory(username="olga.other", groups=["Staff"])
    risk = RiskFactory(title="Original")
    opened = Risk.objects.get(pk=risk.pk)  # both editors open version N
    version = opened.version

    risk_update(
        risk=Risk.objects.get(pk=risk.pk), user=other, expected_version=version, title="Theirs"
    )
    with pytest.raises(StaleEdit) as excinfo:
        risk_update(risk=opened, user=staff_member, expected_version=version, title="Mine")

    message = excinfo.value.messages[0]
    assert "Original" in message and "Theirs" in message
    assert excinfo.value.changes == [{"field": "title", "old": "Original", "new": "Theirs"}]
    assert Risk.objects.get(pk=risk.pk).title == "Theirs"


def test_each_save_raises_the_version(staff_member):
    risk = RiskFactory()
    before = Risk.objects.get(pk=risk.pk).version
    risk_update(risk=risk, user=staff_member, expected_version=before, title="New")
    risk_assess(risk=risk, likelihood=4, impact=4, rationale="Worse.", user=staff_member)
    assert Risk.objects.get(pk=risk.pk).version == before + 2


def test_a_rerating_in_between_makes_an_edit_stale(staff_member):
    risk = RiskFactory()
    version = Risk.objects.get(pk=risk.pk).version
    risk_assess(
        risk=Risk.objects.get(pk=risk.pk), likelihood=5, impact=5, rationale="x", user=staff_member
    )
    with pytest.raises(StaleEdit):
        risk_update(risk=risk, user=staff_member, expected_version=version, title="Mine")


def test_a_rerating_never_writes_back_stale_fields(staff_member):
    risk = RiskFactory(title="Original")
    stale = Risk.objects.get(pk=risk.pk)
    risk_update(risk=Risk.objects.get(pk=risk.pk), user=staff_member, title="Renamed")
    risk_assess(risk=stale, likelihood=2, impact=2, rationale="Better.", user=staff_member)
    assert Risk.objects.get(pk=risk.pk).title == "Renamed"


@pytest.mark.parametrize(
    ("factory", "update", "keyword", "field"),
    [
        (MitigationActionFactory, mitigation_update, "mitigation", "title"),
        (KeyActionFactory, key_action_update, "key_action", "title"),
        (MetricFactory, metric_update, "metric", "unit"),
    ],
)
def test_every_editable_record_refuses_a_stale_save(staff_member, factory, update, keyword, field):
    record = factory()
    model = type(record)
    version = model.objects.get(pk=record.pk).version
    update(
        **{keyword: model.objects.get(pk=record.pk)},
        user=staff_member,
        expected_version=version,
        **{field: "first"},
    )
    with pytest.raises(StaleEdit):
        update(
            **{keyword: record}, user=staff_member, expected_version=version, **{field: "second"}
        )
    assert getattr(model.objects.get(pk=record.pk), field) == "first"


def test_history_names_the_editor_outside_a_request(staff_member):
    risk = RiskFactory(title="Before")
    risk_update(risk=risk, user=staff_member, title="After")
    latest = risk.history.latest()
    assert latest.history_user == staff_member
    assert latest.diff_against(latest.prev_record).changed_fields == ["title"]
