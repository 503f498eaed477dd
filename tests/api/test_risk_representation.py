"""The risk serializer writes its fields out by hand (speed): it must give exactly what DRF's
generic walk over the declared fields gives, for every kind of row, live and as of a day."""

from __future__ import annotations

import datetime

import pytest
from rest_framework import serializers

from risks import services
from risks.api import serializers as risk_serializers
from risks.api import views as risk_views
from tests.factories import AgencyFactory, IndicatorFactory, PhaseFactory, RiskFactory

pytestmark = pytest.mark.django_db


class GenericRiskSerializer(risk_serializers.RiskSerializer):
    def to_representation(self, instance):
        return serializers.ModelSerializer.to_representation(self, instance)


@pytest.fixture
def register(staff_member):
    phase = PhaseFactory(number=1)
    plain = RiskFactory(phases=[phase])
    plain.supporting_agencies.set([AgencyFactory(code="STATE")])
    RiskFactory(inherent_likelihood=5, inherent_impact=4, review_frequency_days=30)
    RiskFactory(last_assessed_at=None, assessed=False)
    closed = RiskFactory()
    services.risk_close(risk=closed, reason="Gone.", user=staff_member)
    IndicatorFactory(risk=plain)
    overdue = RiskFactory()
    overdue.next_review_due = datetime.date(2000, 1, 1)
    overdue.save()


@pytest.mark.parametrize("query", ["", "?as_of=2099-12-31", "?status=closed", "?format=json"])
def test_hand_written_fields_equal_the_generic_ones(client, auditor, register, monkeypatch, query):
    client.force_login(auditor)
    path = f"/api/v1/risks/{query}"
    written = client.get(path).json()["results"]
    monkeypatch.setattr(risk_views, "RiskSerializer", GenericRiskSerializer)
    generic = client.get(path).json()["results"]
    assert written, "no rows: the comparison proves nothing"
    assert [list(row) for row in written] == [list(row) for row in generic]
    assert written == generic


def test_one_risk_too(client, auditor, register, monkeypatch):
    client.force_login(auditor)
    code = client.get("/api/v1/risks/").json()["results"][0]["code"]
    written = client.get(f"/api/v1/risks/{code}/").json()
    monkeypatch.setattr(risk_views, "RiskSerializer", GenericRiskSerializer)
    assert client.get(f"/api/v1/risks/{code}/").json() == written
