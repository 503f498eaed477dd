"""The API's list answers and the heatmap's JSON are kept until the next write
(common/api.py CachedListMixin, risks/api/views.py HeatmapView): the same URL again costs no
query, and no answer is ever stale after a write, a day's turn or a bad request."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import token_create
from risks.models import Risk
from risks.services import risk_assess
from roadmap.models import Phase
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Writes made and committed, as in production: an answer is kept only once no write of
    this connection is pending (common/cache.py `storable`)."""

    def run(write):
        with django_capture_on_commit_callbacks(execute=True):
            return write()

    return run


@pytest.fixture
def auditor_api(client, auditor, committed):
    _, key = committed(lambda: token_create(user=auditor, name="answers"))
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    return client


def _read(client, path: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    statements = [
        q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    return response, statements


@pytest.mark.parametrize(
    "path", ["/api/v1/phases/", "/api/v1/risks/?page_size=100", "/api/v1/heatmap/"]
)
def test_the_same_url_again_costs_no_query(auditor_api, committed, seed, path):
    committed(lambda: RiskFactory.create_batch(3))
    first, _ = _read(auditor_api, path)
    again, statements = _read(auditor_api, path)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert statements == []


def test_a_new_rating_is_in_the_next_list_and_heatmap(auditor_api, committed, staff_member):
    risk = committed(lambda: RiskFactory(code="T1", likelihood=2, impact=2, score=4))
    assert auditor_api.get("/api/v1/risks/?rating=Critical").json()["count"] == 0
    before = auditor_api.get("/api/v1/heatmap/").json()

    committed(
        lambda: risk_assess(
            risk=risk, likelihood=5, impact=5, rationale="Worse.", user=staff_member
        )
    )

    assert [
        r["code"] for r in auditor_api.get("/api/v1/risks/?rating=Critical").json()["results"]
    ] == ["T1"]
    after = auditor_api.get("/api/v1/heatmap/").json()
    assert after != before
    cell = next(c for c in after["cells"] if (c["likelihood"], c["impact"]) == (5, 5))
    assert cell["count"] == 1


def test_a_write_in_the_plan_is_in_the_next_phases_list(auditor_api, committed, seed):
    phase = Phase.objects.get(number=1)
    assert auditor_api.get("/api/v1/phases/").json()["results"][0]["name"] == phase.name
    phase.name = "Groundwork"
    committed(phase.save)
    assert auditor_api.get("/api/v1/phases/").json()["results"][0]["name"] == "Groundwork"


def test_a_write_not_yet_committed_is_never_kept(auditor_api, committed, staff_member):
    """Inside a transaction that has written, an answer is computed but not kept: were the
    write rolled back, no commit would move the version past it."""
    risk = committed(lambda: RiskFactory(code="T1", likelihood=2, impact=2, score=4))
    risk_assess(risk=risk, likelihood=5, impact=5, rationale="Uncommitted.", user=staff_member)
    assert auditor_api.get("/api/v1/risks/?rating=Critical").json()["count"] == 1
    _, statements = _read(auditor_api, "/api/v1/risks/?rating=Critical")
    assert statements  # computed again, not read from the cache


def test_overdue_turns_with_the_day(auditor_api, committed):
    due = datetime.date(2026, 6, 30)
    committed(lambda: RiskFactory(code="T1", next_review_due=due))
    path = "/api/v1/risks/?review_overdue=true"
    with time_machine.travel(datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC)):
        assert auditor_api.get(path).json()["count"] == 0
        assert auditor_api.get(path).json()["count"] == 0  # kept for the day
    with time_machine.travel(datetime.datetime(2026, 7, 1, 12, tzinfo=datetime.UTC)):
        assert auditor_api.get(path).json()["count"] == 1


def test_a_bad_query_is_refused_every_time_and_keeps_nothing(auditor_api, committed):
    committed(lambda: RiskFactory(code="T1"))
    for path in ("/api/v1/heatmap/?as_of=not-a-day", "/api/v1/risks/?rating=Nope"):
        first, second = auditor_api.get(path), auditor_api.get(path)
        assert first.status_code == second.status_code == 400
        assert first.json() == second.json()
        assert first["Content-Type"].startswith("application/json")
    assert auditor_api.get("/api/v1/heatmap/").status_code == 200


def test_each_page_and_format_is_its_own_answer(auditor_api, committed):
    committed(lambda: RiskFactory.create_batch(3))
    first = auditor_api.get("/api/v1/risks/?page_size=2").json()
    second = auditor_api.get("/api/v1/risks/?page_size=2&page=2").json()
    assert {r["code"] for r in first["results"]}.isdisjoint(r["code"] for r in second["results"])
    csv = auditor_api.get("/api/v1/risks/?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert Risk.objects.count() == 3 == len(b"".join(csv.streaming_content).splitlines()) - 1


def test_permission_is_checked_before_any_kept_answer(client, auditor_api, committed, outsider):
    committed(lambda: RiskFactory.create_batch(2))
    assert auditor_api.get("/api/v1/risks/").status_code == 200
    _, key = committed(lambda: token_create(user=outsider, name="outsider"))
    response = client.get("/api/v1/risks/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 403


def test_phase_model_is_the_plans(db):
    # The phases list is kept under the register's version: roadmap writes move it too.
    from risks.signals import APPS

    assert Phase._meta.app_label in APPS
