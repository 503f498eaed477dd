"""Each assessment shows the rating before it, beside the new one, in the API and on the
risk's page: read in the same query, whatever the filters."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

from risks import services
from tests.factories import AssessmentFactory, RiskFactory

pytestmark = pytest.mark.django_db(transaction=True)

T0 = timezone.make_aware(datetime.datetime(2026, 1, 5, 9, 0))


@pytest.fixture
def rated(staff_member):
    risk = RiskFactory(code="R1", assessed=False)
    for days, (likelihood, impact) in enumerate([(2, 3), (4, 3), (4, 5)]):
        AssessmentFactory(
            risk=risk,
            likelihood=likelihood,
            impact=impact,
            assessed_at=T0 + datetime.timedelta(days=days),
            assessed_by=staff_member,
        )
    RiskFactory(code="R2")
    return risk


def _ratings(rows):
    return [
        (
            r["likelihood"],
            r["impact"],
            r["previous_likelihood"],
            r["previous_impact"],
            r["previous_score"],
        )
        for r in rows
    ]


def test_list_shows_previous_rating_even_when_filtered_out(api, auditor, rated):
    client = api(auditor)
    rows = client.get("/api/v1/assessments/?risk=R1").json()["results"]
    assert _ratings(rows) == [(4, 5, 4, 3, 12), (4, 3, 2, 3, 6), (2, 3, None, None, None)]
    # The earlier assessment is outside the filter; its rating is still the previous one.
    after = (T0 + datetime.timedelta(days=2)).isoformat()
    rows = client.get("/api/v1/assessments/", params={"risk": "R1", "after": after}).json()
    assert _ratings(rows["results"]) == [(4, 5, 4, 3, 12)]


def test_detail_and_new_assessment(api, staff_member, rated):
    client = api(staff_member)
    latest = client.get("/api/v1/assessments/?risk=R1").json()["results"][0]
    detail = client.get(f"/api/v1/assessments/{latest['id']}/").json()
    assert (detail["previous_likelihood"], detail["previous_score"]) == (4, 12)
    response = client.post(
        "/api/v1/assessments/",
        {"risk": "R1", "likelihood": 1, "impact": 1, "rationale": "Resolved in committee."},
    )
    assert response.status_code == HTTPStatus.CREATED, response.text
    body = response.json()
    assert (body["score"], body["previous_score"], body["previous_likelihood"]) == (1, 20, 4)


def test_same_moment_orders_by_id(staff_member):
    risk = RiskFactory(code="R3", assessed=False)
    first = AssessmentFactory(risk=risk, likelihood=1, impact=1, assessed_at=T0)
    AssessmentFactory(risk=risk, likelihood=5, impact=5, assessed_at=T0)
    from risks.models import Assessment
    from risks.selectors import with_previous_rating

    rows = list(with_previous_rating(Assessment.objects.filter(risk=risk)).order_by("id"))
    assert [r.previous_score for r in rows] == [None, first.score]


def test_risk_page_shows_what_it_was(client, auditor, rated, staff_member):
    services.risk_assess(
        risk=rated, likelihood=1, impact=2, rationale="Funding restored.", user=staff_member
    )
    client.force_login(auditor)
    html = client.get("/risks/R1/").content.decode()
    assert "(was 4\u00d75, 20)" in html
    assert "(first rating)" in html
