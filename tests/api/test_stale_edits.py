"""ETag / If-Match (or `version`) on risks, mitigations, key actions and metrics: a change made
from a stale copy is refused with what changed, who changed it and when; nothing is written.

Each test walks all four kinds of record in one database (a transactional flush is slow)."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import pytest
from django.db import models

from risks.models import MitigationAction, Risk
from risks.services import risk_update
from roadmap.models import KeyAction, Metric
from tests.factories import (
    KeyActionFactory,
    MetricFactory,
    MitigationActionFactory,
    RiskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Record:
    obj: models.Model
    path: str
    etag_record: str
    change: dict
    renamed: str  # the field someone else changes

    def etag(self, version: int) -> str:
        return f'"{self.etag_record}-v{version}"'

    def someone_else_saves(self) -> None:
        other = UserFactory(username="olga.other")
        if isinstance(self.obj, Risk):
            risk_update(risk=self.obj, user=other, title="Theirs")
            return
        self.obj._history_user = other
        setattr(self.obj, self.renamed, "Theirs")
        self.obj.save()

    def reloaded(self) -> models.Model:
        self.obj.refresh_from_db()
        return self.obj


@pytest.fixture
def records() -> list[Record]:
    risk = RiskFactory(code="R1", title="Original")
    mitigation = MitigationActionFactory(risk=risk)
    action, metric = KeyActionFactory(), MetricFactory()
    return [
        Record(risk, "/api/v1/risks/R1/", "risk-R1", {"title": "Mine"}, "title"),
        Record(
            mitigation,
            f"/api/v1/mitigations/{mitigation.pk}/",
            f"mitigation-{mitigation.pk}",
            {"title": "Mine"},
            "title",
        ),
        Record(
            action,
            f"/api/v1/key-actions/{action.pk}/",
            f"key-action-{action.pk}",
            {"status": "in_progress"},
            "title",
        ),
        Record(
            metric, f"/api/v1/metrics/{metric.pk}/", f"metric-{metric.pk}", {"unit": "Ha"}, "name"
        ),
    ]


def test_get_answers_etag_and_version(api, auditor, records):
    client = api(auditor)
    for record in records:
        response = client.get(record.path)
        assert response.status_code == HTTPStatus.OK, record.path
        assert response.headers["ETag"] == record.etag(1)
        assert response.json()["version"] == 1


def test_patch_with_current_etag_saves_and_answers_the_next_one(api, staff_member, records):
    client = api(staff_member)
    for record in records:
        response = client.patch(record.path, record.change, headers={"If-Match": record.etag(1)})
        assert response.status_code == HTTPStatus.OK, response.text
        assert response.headers["ETag"] == record.etag(2)
        assert response.json()["version"] == 2
        assert record.reloaded().version == 2


def test_stale_if_match_is_412_naming_the_change_and_writes_nothing(api, staff_member, records):
    client = api(staff_member)
    for record in records:
        record.someone_else_saves()

        response = client.patch(record.path, record.change, headers={"If-Match": record.etag(1)})

        assert response.status_code == HTTPStatus.PRECONDITION_FAILED, response.text
        body = response.json()
        assert "olga.other" in body["detail"]
        assert "version 1 → 2" in body["detail"]
        assert body["current_version"] == 2
        assert {"field": record.renamed, "new": "Theirs"} in [
            {"field": c["field"], "new": c["new"]} for c in body["changes"]
        ]
        obj = record.reloaded()
        assert obj.version == 2
        assert all(getattr(obj, field) != value for field, value in record.change.items())


def test_stale_version_in_the_body_is_409(api, staff_member, records):
    client = api(staff_member)
    for record in records:
        record.someone_else_saves()
        response = client.patch(record.path, {**record.change, "version": 1})
        assert response.status_code == HTTPStatus.CONFLICT, record.path
        assert response.json()["current_version"] == 2
        assert "Reload it" in response.json()["detail"]
        ok = client.patch(record.path, {**record.change, "version": 2})
        assert ok.status_code == HTTPStatus.OK, ok.text


def test_no_precondition_is_428_explaining_if_match(api, staff_member, records):
    client = api(staff_member)
    for record in records:
        for headers in ({}, {"If-Match": "*"}):
            response = client.patch(record.path, record.change, headers=headers)
            assert response.status_code == HTTPStatus.PRECONDITION_REQUIRED, record.path
            assert "If-Match" in response.json()["detail"]
        assert record.reloaded().version == 1


def test_if_match_of_another_record_or_unreadable_is_412(api, staff_member):
    RiskFactory(code="R1")
    RiskFactory(code="R2")
    client = api(staff_member)
    for if_match in ['"risk-R2-v1"', "garbage", '"risk-R1-vX"', 'W/"nonsense"']:
        response = client.patch("/api/v1/risks/R1/", {"title": "x"}, headers={"If-Match": if_match})
        assert response.status_code == HTTPStatus.PRECONDITION_FAILED, if_match
        assert '"risk-R1-v1"' in response.json()["detail"]
    assert Risk.objects.get(code="R1").version == 1


def test_weak_etag_and_lists_of_etags_are_understood(api, staff_member):
    RiskFactory(code="R1")
    client = api(staff_member)
    path = "/api/v1/risks/R1/"
    ok = client.patch(path, {"title": "A"}, headers={"If-Match": 'W/"risk-R1-v1"'})
    assert ok.status_code == HTTPStatus.OK
    ok = client.patch(path, {"title": "B"}, headers={"If-Match": '"risk-R2-v9", "risk-R1-v2"'})
    assert ok.status_code == HTTPStatus.OK


def test_version_must_be_a_whole_number(api, staff_member):
    RiskFactory(code="R1")
    client = api(staff_member)
    for version in ["2", 0, -1, True, 1.5]:
        response = client.patch("/api/v1/risks/R1/", {"title": "x", "version": version})
        assert response.status_code == HTTPStatus.BAD_REQUEST, version
        assert "version" in response.json()


def test_put_needs_the_precondition_too(api, staff_member):
    mitigation = MitigationActionFactory()
    client = api(staff_member)
    path = f"/api/v1/mitigations/{mitigation.pk}/"
    body = {k: v for k, v in client.get(path).json().items() if v is not None and k != "version"}
    body["title"] = "Whole new"
    assert client.put(path, body).status_code == HTTPStatus.PRECONDITION_REQUIRED
    ok = client.put(path, body, headers={"If-Match": f'"mitigation-{mitigation.pk}-v1"'})
    assert ok.status_code == HTTPStatus.OK, ok.text
    assert MitigationAction.objects.get().title == "Whole new"


def test_key_actions_and_metrics_patch_for_staff_only_and_no_put(
    api, auditor, board_member, staff_member
):
    action, metric = KeyActionFactory(), MetricFactory()
    paths = [f"/api/v1/key-actions/{action.pk}/", f"/api/v1/metrics/{metric.pk}/"]
    for persona in (auditor, board_member):
        for path in paths:
            assert api(persona).patch(path, {"version": 1}).status_code == 403
    staff = api(staff_member)
    for path in paths:
        assert staff.put(path, {"title": "x"}).status_code == HTTPStatus.METHOD_NOT_ALLOWED
        assert staff.delete(path).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert KeyAction.objects.get().version == Metric.objects.get().version == 1


def test_bad_key_action_or_metric_change_is_400_naming_the_field(api, staff_member):
    action = KeyActionFactory(start_month=1, end_month=6)
    metric = MetricFactory()
    client = api(staff_member)
    for path, change, field in (
        (f"/api/v1/key-actions/{action.pk}/", {"status": "abandoned"}, "status"),
        (f"/api/v1/key-actions/{action.pk}/", {"title": "t" * 301}, "title"),
        (f"/api/v1/key-actions/{action.pk}/", {"lead_agencies": ["NOPE"]}, "lead_agencies"),
        (f"/api/v1/key-actions/{action.pk}/", {"start_month": 200}, "__all__"),
        (f"/api/v1/metrics/{metric.pk}/", {"milestone_year": 11}, "__all__"),
        (f"/api/v1/metrics/{metric.pk}/", {"direction": "sideways"}, "direction"),
        (f"/api/v1/metrics/{metric.pk}/", {"phases": [7]}, "phases"),
    ):
        response = client.patch(path, {**change, "version": 1})
        assert response.status_code == HTTPStatus.BAD_REQUEST, change
        assert field in response.json(), response.json()
    assert KeyAction.objects.get().version == Metric.objects.get().version == 1
