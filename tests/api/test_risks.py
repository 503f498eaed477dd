"""The register over real HTTP: read for every role, writes for Staff only."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from risks.models import Risk
from tests.factories import AgencyFactory, PhaseFactory, RiskFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_anonymous_gets_401(api):
    assert api().get("/api/v1/risks/").status_code == HTTPStatus.UNAUTHORIZED


def test_outsider_gets_403(api, outsider):
    assert api(outsider).get("/api/v1/risks/").status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("persona", ["auditor", "board_member", "staff_member"])
def test_seeded_risk_reads_as_documented(request, api, seed, persona):
    response = api(request.getfixturevalue(persona)).get("/api/v1/risks/R4/")

    assert response.status_code == HTTPStatus.OK
    risk = response.json()
    assert risk["code"] == "R4"
    assert risk["likelihood"] == {"level": 4, "label": "Medium-High"}
    assert risk["impact"] == {"level": 5, "label": "High"}
    assert risk["score"] == 20
    assert risk["rating"] == "Critical"
    assert risk["above_appetite"] is True
    assert risk["contingency_plan"].startswith("If bilateral negotiations fail")
    assert risk["links"]["assessments"].endswith("/api/v1/assessments/?risk=R4")


def test_list_is_ordered_by_score(api, auditor, seed):
    codes = [r["code"] for r in api(auditor).get("/api/v1/risks/").json()["results"]]
    assert codes == ["R1", "R4", "R3", "R2", "R5"]


@pytest.mark.parametrize("persona", ["auditor", "board_member"])
def test_readers_cannot_write(request, api, seed, persona):
    client = api(request.getfixturevalue(persona))
    assert client.patch("/api/v1/risks/R1/", {"title": "x"}).status_code == HTTPStatus.FORBIDDEN
    assert client.post("/api/v1/risks/", {}).status_code == HTTPStatus.FORBIDDEN
    assert Risk.objects.get(code="R1").title != "x"


def test_nobody_deletes_a_risk(api, staff_member, admin_user, seed):
    assert api(staff_member).delete("/api/v1/risks/R1/").status_code in (
        HTTPStatus.FORBIDDEN,
        HTTPStatus.METHOD_NOT_ALLOWED,
    )
    assert api(admin_user).delete("/api/v1/risks/R1/").status_code == (
        HTTPStatus.METHOD_NOT_ALLOWED
    )
    assert Risk.objects.filter(code="R1").exists()


def test_staff_create_a_risk_with_its_first_assessment(api, staff_member):
    AgencyFactory(code="OMB")
    PhaseFactory(number=2)
    payload = {
        "code": "R6",
        "title": "Appropriations lapse",
        "statement": "A lapse in appropriations halts new programme starts.",
        "category": "financial",
        "owner": "Budget lead",
        "owner_agency": "OMB",
        "phases": [2],
        "likelihood": 2,
        "impact": 4,
        "target_likelihood": 1,
        "target_impact": 3,
        "mitigation_strategy": "Multi-year funds.",
        "contingency_plan": "Reprogramme.",
        "rationale": "Raised by OMB at the working group.",
    }

    response = api(staff_member).post("/api/v1/risks/", payload)

    assert response.status_code == HTTPStatus.CREATED, response.text
    assert response.json()["score"] == 8
    risk = Risk.objects.get(code="R6")
    assert risk.assessments.get().assessed_by == staff_member


def test_create_without_rationale_is_refused(api, staff_member):
    AgencyFactory(code="OMB")
    response = api(staff_member).post(
        "/api/v1/risks/", {"code": "R7", "owner_agency": "OMB", "likelihood": 2, "impact": 2}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "rationale" in response.json()
    assert not Risk.objects.filter(code="R7").exists()


def _if_match(client, path: str) -> dict[str, str]:
    """The ETag of a GET, to send back as If-Match with a change."""
    return {"If-Match": client.get(path).headers["ETag"]}


def test_patch_cannot_change_the_rating(api, staff_member):
    RiskFactory(code="R8", likelihood=3, impact=3)
    client = api(staff_member)
    path = "/api/v1/risks/R8/"
    response = client.patch(path, {"likelihood": 5}, headers=_if_match(client, path))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "assessment" in response.json()["likelihood"][0]
    assert Risk.objects.get(code="R8").likelihood == 3


def test_patch_changes_descriptive_fields(api, staff_member):
    RiskFactory(code="R8")
    client = api(staff_member)
    path = "/api/v1/risks/R8/"
    response = client.patch(
        path, {"title": "Renamed", "status": "monitoring"}, headers=_if_match(client, path)
    )
    assert response.status_code == HTTPStatus.OK, response.text
    assert response.json()["title"] == "Renamed"
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == '"risk-R8-v2"'
    assert Risk.objects.get(code="R8").status == "monitoring"


def test_unknown_code_is_404(api, auditor):
    assert api(auditor).get("/api/v1/risks/R404/").status_code == HTTPStatus.NOT_FOUND
