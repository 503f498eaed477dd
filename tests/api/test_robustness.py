"""Bad requests get a 4xx that says what is wrong, and write nothing; never a 500."""

from __future__ import annotations

import datetime
import json
from http import HTTPStatus

import pytest
from django.conf import settings

from risks.models import Assessment, MitigationAction, Risk
from tests.factories import AgencyFactory, RiskFactory

pytestmark = pytest.mark.django_db(transaction=True)

JSON = {"Content-Type": "application/json"}


# Each test below tries many cases in one database: a transactional test's flush is slow.


def test_malformed_json_is_400(api, staff_member):
    RiskFactory(code="R1")
    client = api(staff_member)
    for body in ["{not json", '{"risk": "R1",}', "\xff\xfe", "NaN", ""]:
        response = client.post(
            "/api/v1/risks/R1/invoke-contingency/", data=body.encode("latin-1"), headers=JSON
        )
        assert response.status_code == HTTPStatus.BAD_REQUEST, body
    assert Risk.objects.get().status == "open"


def test_json_nested_too_deeply_is_400(api, staff_member):
    response = api(staff_member).post("/api/v1/assessments/", data="[" * 100_000, headers=JSON)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "JSON" in response.json()["detail"]


def test_body_over_the_limit_is_413_and_writes_nothing(api, staff_member):
    RiskFactory(code="R1")
    rationale = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api(staff_member).post(
        "/api/v1/assessments/",
        {"risk": "R1", "likelihood": 5, "impact": 5, "rationale": rationale},
    )
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "larger than the limit" in response.json()["detail"]
    assert Assessment.objects.count() == 1  # the factory's first rating only
    assert Risk.objects.get().likelihood == 3


def test_body_under_the_limit_is_read(api, staff_member):
    RiskFactory(code="R1")
    body = json.dumps({"reason": "r" * 9000, "evidence": " " * 500_000})
    response = api(staff_member).post(
        "/api/v1/risks/R1/invoke-contingency/", data=body, headers=JSON
    )
    assert response.status_code == HTTPStatus.CREATED, response.text


def test_a_form_body_is_415(api, staff_member):
    RiskFactory(code="R1")
    response = api(staff_member).post(
        "/api/v1/risks/R1/invoke-contingency/", data={"reason": "x"}, json=None
    )
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


NOT_FOUND = [
    "/api/v1/risks/R404/",
    "/api/v1/risks/R1%00/",
    "/api/v1/risks/%E2%98%83/",
    "/api/v1/mitigations/999999/",
    "/api/v1/mitigations/99999999999999999999999/",
    "/api/v1/mitigations/abc/",
    "/api/v1/agencies/NOPE/",
    "/api/v1/phases/9/",
    "/api/v1/key-actions/999999/",
    "/api/v1/metrics/999999/",
    "/api/v1/metrics/999999/readings/",
    "/api/v1/triggers/999999/",
    "/api/v1/indicators/999999/",
    "/api/v1/breaches/999999/",
    "/api/v1/reviews/2099-Q1/",
    "/api/v1/reviews/not-a-quarter/",
    "/api/v1/nothing-here/",
]


def test_unknown_is_404(api, auditor):
    client = api(auditor)
    for path in NOT_FOUND:
        assert client.get(path).status_code == HTTPStatus.NOT_FOUND, path


NOT_ALLOWED = [
    ("delete", "/api/v1/risks/R1/"),
    ("delete", "/api/v1/assessments/{assessment}/"),
    ("put", "/api/v1/assessments/{assessment}/"),
    ("post", "/api/v1/heatmap/"),
    ("post", "/api/v1/triggers/verify/"),
    ("delete", "/api/v1/triggers/verify/"),
    ("post", "/api/v1/agencies/"),
    ("put", "/api/v1/risks/R1/invoke-contingency/"),
    ("get", "/api/v1/risks/R1/stand-down/"),
    ("post", "/api/v1/history/"),
]


def test_unsupported_method_is_405(api, staff_member):
    risk = RiskFactory(code="R1")
    client = api(staff_member)
    for method, path in NOT_ALLOWED:
        path = path.format(assessment=risk.assessments.get().pk)
        response = getattr(client, method)(path)
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED, (method, path)
    assert Risk.objects.filter(code="R1").exists()


def _risk_payload(**changes) -> dict:
    return {
        "code": "R9",
        "title": "A risk",
        "statement": "Cause, event, consequence.",
        "category": "financial",
        "owner": "Budget lead",
        "owner_agency": "OMB",
        "likelihood": 2,
        "impact": 4,
        "target_likelihood": 1,
        "target_impact": 3,
        "mitigation_strategy": "Multi-year funds.",
        "contingency_plan": "Reprogramme.",
        "rationale": "Raised by OMB.",
        **changes,
    }


INVALID_RISKS = [
    ({"title": "t" * 201}, "title"),
    ({"code": "C" * 21}, "code"),
    ({"code": "R 9/x"}, "code"),
    ({"owner": "o" * 201}, "owner"),
    ({"category": "weather"}, "category"),
    ({"likelihood": 9}, "likelihood"),
    ({"review_frequency_days": -5}, "review_frequency_days"),
    ({"owner_agency": "NOPE"}, "owner_agency"),
    ({"phases": [99]}, "phases"),
]


def test_invalid_field_is_400_naming_it(api, staff_member):
    AgencyFactory(code="OMB")
    client = api(staff_member)
    for changes, field in INVALID_RISKS:
        response = client.post("/api/v1/risks/", _risk_payload(**changes))
        assert response.status_code == HTTPStatus.BAD_REQUEST, changes
        assert field in response.json(), (changes, response.json())
    assert not Risk.objects.filter(code__startswith="R9").exists()
    assert client.post("/api/v1/risks/", _risk_payload()).status_code == HTTPStatus.CREATED


def test_impossible_due_date_is_400_naming_the_field(api, staff_member):
    RiskFactory(code="R1")
    AgencyFactory(code="STATE")
    client = api(staff_member)
    for due_date, message in [
        ("2027-13-01", "Date has wrong format"),
        ("01/06/2027", "Date has wrong format"),
        ("2027-02-30", "Date has wrong format"),
        ("2001-01-01", "before the risk was recorded"),
    ]:
        response = client.post(
            "/api/v1/mitigations/",
            {"risk": "R1", "title": "Do it", "owner_agency": "STATE", "due_date": due_date},
        )
        assert response.status_code == HTTPStatus.BAD_REQUEST, due_date
        assert message in response.json()["due_date"][0], due_date
    assert not MitigationAction.objects.exists()


def test_due_date_change_before_the_risk_is_400_too(api, staff_member):
    from tests.factories import MitigationActionFactory

    mitigation = MitigationActionFactory()
    before = (mitigation.risk.created_at - datetime.timedelta(days=30)).date().isoformat()
    response = api(staff_member).patch(
        f"/api/v1/mitigations/{mitigation.pk}/", {"due_date": before, "version": 1}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "due_date" in response.json()
    mitigation.refresh_from_db()
    assert mitigation.version == 1


ODD_QUERIES = [
    "as_of=2027-02-30",
    "as_of=0000-01-01",
    "updated_after=2027-01-01T25:00",
    "score_min=1e999",
    "page=0",
    "page=-1",
    "page_size=abc",
    "ordering=nonsense",
    "agency=%00",
    "owner=%00",
]


def test_odd_query_values_never_500(api, auditor):
    RiskFactory(code="R1")
    client = api(auditor)
    for query in ODD_QUERIES:
        assert client.get(f"/api/v1/risks/?{query}").status_code < 500, query


def test_text_with_nul_characters_is_400(api, staff_member):
    # PostgreSQL cannot store NUL, and a code lookup with one fails in the database.
    RiskFactory(code="R1")
    response = api(staff_member).post(
        "/api/v1/assessments/",
        {"risk": "R1\x00", "likelihood": 3, "impact": 3, "rationale": "x"},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "NUL" in response.json()["detail"]
    assert Assessment.objects.count() == 1


def test_date_times_the_database_cannot_hold_are_400_or_answered(api, auditor):
    client = api(auditor)
    for query in [
        "after=0005-10-22T18:57:29-17:44",  # an offset PostgreSQL refuses
        "before=0001-01-01T00:00:00%2B05:00",  # before the first instant Python can shift
        "after=9999-12-31T23:59:59-05:00",
    ]:
        for path in ("/api/v1/breaches/", "/api/v1/triggers/", "/api/v1/history/"):
            assert client.get(f"{path}?{query}").status_code in (200, 400), (path, query)
    response = client.get("/api/v1/triggers/?before=0001-01-01T00:00:00%2B05:00")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "before" in response.json()
