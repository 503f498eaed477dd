"""The register's CSV is built without serializers, and says exactly what the JSON says."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import RequestFactory

from common.api import flatten
from risks.api.csv import risk_csv_rows
from risks.api.serializers import RiskSerializer
from risks.api.views import RiskViewSet
from risks.selectors import rating_scale
from risks.services import contingency_invoke, risk_close
from tests.factories import AgencyFactory, KeyActionFactory, PhaseFactory, RiskFactory

pytestmark = pytest.mark.django_db


def test_fast_rows_equal_the_flattened_json(staff_member):
    phase = PhaseFactory(number=2)
    action = KeyActionFactory(phase=phase)
    risk = RiskFactory(code="X1", inherent_likelihood=5, inherent_impact=5, phases=[phase])
    risk.supporting_agencies.set([AgencyFactory(code="DEA"), AgencyFactory(code="USAID")])
    risk.key_actions.set([action])
    contingency_invoke(risk=risk, user=staff_member, reason="Triggered.")
    closed = RiskFactory(code="X2", inherent_likelihood=1, inherent_impact=2)
    risk_close(risk=closed, reason="Retired.", user=staff_member)
    request = RequestFactory().get("/api/v1/risks/")
    queryset = RiskViewSet.queryset.all()

    fast = list(risk_csv_rows(queryset, scale=rating_scale(), request=request))
    context = {"request": request}
    slow = [flatten(RiskSerializer(r, context=context).data) for r in queryset]

    assert [row["code"] for row in fast] == ["X1", "X2"]
    expected = [{k: ("" if v is None else v) for k, v in row.items()} for row in slow]
    for got, want in zip(fast, expected, strict=True):
        assert {k: v for k, v in got.items() if want.get(k) != v} == {}
        assert list(got) == list(want)


def test_the_header_is_the_same_whatever_the_first_row(client, auditor):
    RiskFactory(code="X1")  # no inherent rating: its columns stay, empty
    RiskFactory(code="X2", inherent_likelihood=2, inherent_impact=2)
    client.force_login(auditor)
    response = client.get("/api/v1/risks/?format=csv&ordering=code")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["inherent_likelihood_level"] == ""
    assert rows[1]["inherent_likelihood_level"] == "2"
    assert rows[1]["inherent_likelihood_label"] == "Medium-Low"
