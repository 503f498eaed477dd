"""GET /api/v1/heatmap/: the grid as JSON, every cell listed, the page's filters."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
import time_machine
from django.utils import timezone

from risks.services import risk_assess
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _cells(body: dict) -> dict[tuple[int, int], dict]:
    return {(c["likelihood"], c["impact"]): c for c in body["cells"]}


def test_seed_lands_where_the_roadmap_puts_it(api, board_member, seed):
    response = api(board_member).get("/api/v1/heatmap/")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    cells = _cells(body)
    assert len(cells) == 25
    assert cells[(5, 5)]["risks"] == ["R1"]
    assert cells[(5, 5)]["band"] == "Critical"
    assert cells[(4, 5)]["risks"] == ["R4"]
    assert cells[(3, 5)]["risks"] == ["R3"]
    assert sorted(cells[(3, 3)]["risks"]) == ["R2", "R5"]
    assert cells[(3, 3)]["count"] == 2
    assert cells[(1, 1)] == {**cells[(1, 1)], "count": 0, "risks": []}
    assert body["likelihood_labels"]["4"] == "Medium-High"
    assert body["total"] == 5


def test_target_basis_moves_risks_to_their_target_cells(api, auditor):
    RiskFactory(code="X1", likelihood=5, impact=5, target_likelihood=2, target_impact=3)
    cells = _cells(api(auditor).get("/api/v1/heatmap/?basis=target").json())
    assert cells[(2, 3)]["risks"] == ["X1"]
    assert cells[(5, 5)]["count"] == 0


@pytest.mark.parametrize(
    "query", ["basis=nonsense", "phase=7", "agency=NOPE", "as_of=31/03/2027", "status=x"]
)
def test_unknown_filter_value_is_400(api, auditor, query):
    response = api(auditor).get(f"/api/v1/heatmap/?{query}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert query.split("=")[0] in response.json()


def test_as_of_replays_the_history(api, auditor, staff_member):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=10), tick=False):
        risk = RiskFactory(code="X2", likelihood=2, impact=2)
    risk_assess(risk=risk, likelihood=5, impact=4, rationale="Worse now.", user=staff_member)
    client = api(auditor)

    past = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()
    assert _cells(client.get(f"/api/v1/heatmap/?as_of={past}").json())[(2, 2)]["risks"] == ["X2"]
    assert _cells(client.get("/api/v1/heatmap/").json())[(5, 4)]["risks"] == ["X2"]
    row = client.get(f"/api/v1/risks/X2/?as_of={past}").json()
    listed = client.get(f"/api/v1/risks/?as_of={past}").json()["results"]
    assert listed[0]["likelihood"]["level"] == 2
    assert listed[0]["score"] == 4
    assert row["code"] == "X2"


def test_closed_risks_stay_off_the_grid(api, auditor, staff_member):
    from risks.services import risk_close

    risk_close(risk=RiskFactory(code="X3"), reason="Done.", user=staff_member)
    assert api(auditor).get("/api/v1/heatmap/").json()["total"] == 0


def test_anonymous_401_outsider_403(api, outsider):
    assert api().get("/api/v1/heatmap/").status_code == HTTPStatus.UNAUTHORIZED
    assert api(outsider).get("/api/v1/heatmap/").status_code == HTTPStatus.FORBIDDEN
