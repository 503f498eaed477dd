"""Cached answers (the heatmap's grid, page and JSON, the rating scale) are never stale:
after any write - a re-rating through the service, the API or an import, a closure, a
deletion, a change of the scale, a bulk write that sends no signal - the next answer shows it."""

from __future__ import annotations

import csv
import datetime
import io
from http import HTTPStatus

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from risks import selectors, services
from risks.models import RatingBand, Risk
from risks.signals import register_changed
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db


def _cell_codes(client, likelihood: int, impact: int) -> list[str]:
    cells = client.get("/api/v1/heatmap/").json()["cells"]
    (cell,) = [c for c in cells if (c["likelihood"], c["impact"]) == (likelihood, impact)]
    return cell["risks"]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A write as it is in production: committed, so its answers may be cached again (inside
    the test's transaction nothing computed after a write would be kept)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def risk(db, committed):
    with committed():
        return RiskFactory(code="C1", title="Cached risk", likelihood=3, impact=3)


@pytest.fixture
def warm(client, board_member, risk):
    """Both faces read once, so the next read would come from the cache if it were stale."""
    client.force_login(board_member)
    assert _cell_codes(client, 3, 3) == ["C1"]
    page = client.get("/heatmap/")
    assert page.status_code == HTTPStatus.OK and b"C1" in page.content
    return client


def test_a_rating_change_through_the_service(warm, risk, staff_member, committed):
    with committed():
        services.risk_assess(
            risk=risk, likelihood=5, impact=4, rationale="Worse.", user=staff_member
        )
    assert _cell_codes(warm, 3, 3) == []
    assert _cell_codes(warm, 5, 4) == ["C1"]
    assert "Worse" not in warm.get("/heatmap/").content.decode()  # the page re-reads too
    assert warm.get("/api/v1/risks/C1/").json()["score"] == 20


def test_a_rating_change_through_the_api(warm, risk, staff_client, committed):
    with committed():
        response = staff_client.post(
            "/api/v1/assessments/",
            {"risk": "C1", "likelihood": 1, "impact": 2, "rationale": "Better."},
            content_type="application/json",
        )
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert _cell_codes(warm, 1, 2) == ["C1"]


def test_a_title_change_shows_on_the_page(warm, risk, staff_member, committed):
    with committed():
        services.risk_update(
            risk=risk, user=staff_member, expected_version=risk.version, title="Renamed risk"
        )
    assert b"Renamed risk" in warm.get("/heatmap/").content


def test_a_closure(warm, risk, staff_member, committed):
    with committed():
        services.risk_close(risk=risk, reason="Gone.", user=staff_member)
    assert _cell_codes(warm, 3, 3) == []
    assert warm.get("/api/v1/heatmap/").json()["total"] == 0


def test_a_deletion(warm, committed):
    with committed():
        spare = RiskFactory(code="C2", likelihood=3, impact=3, assessed=False)
    assert _cell_codes(warm, 3, 3) == ["C1", "C2"]
    with committed():
        Risk.objects.filter(pk=spare.pk).get().delete()
    assert _cell_codes(warm, 3, 3) == ["C1"]


def test_an_import(warm, staff_client, staff_member, tmp_path, committed):
    text = b"".join(staff_client.get("/risks/export.csv").streaming_content).decode("utf-8-sig")
    _filters_line, header, row = list(csv.reader(io.StringIO(text)))
    row[header.index("Likelihood level")] = "1"
    path = tmp_path / "edited.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as file:
        csv.writer(file).writerows([header, row])
    call_command(
        "import_register", str(path), "--user", staff_member.username, stdout=io.StringIO()
    )
    assert _cell_codes(warm, 1, 3) == ["C1"]


def test_a_change_of_the_scale(warm, risk, committed):
    band = RatingBand.objects.get(min_score__lte=9, max_score__gte=9)
    band.name = "Renamed band"
    with committed():
        band.save()
    assert warm.get("/api/v1/risks/C1/").json()["rating"] == "Renamed band"
    bands = {b["name"] for b in warm.get("/api/v1/heatmap/").json()["bands"]}
    assert "Renamed band" in bands
    assert b"Renamed band" in warm.get("/risks/").content


def test_a_write_without_signals_is_announced(warm, risk, committed):
    with committed():
        Risk.objects.filter(pk=risk.pk).update(likelihood=4, impact=4, score=16)
        register_changed()  # what the generator and other bulk writers do
    assert _cell_codes(warm, 4, 4) == ["C1"]


def test_with_one_process_memory_nothing_is_kept(warm, risk, settings):
    # The default cache (no CACHE_URL): a write by another worker or a command moves no
    # version this process can see, so every answer is computed afresh.
    settings.STATE_CACHE = False
    Risk.objects.filter(pk=risk.pk).update(likelihood=5, impact=5, score=25)  # no signal
    assert _cell_codes(warm, 5, 5) == ["C1"]


def test_a_rolled_back_write_leaves_no_answer_behind(warm, risk, staff_member):
    # Read inside the writing transaction, which then rolls back: what it saw is not kept.
    with pytest.raises(RuntimeError), transaction.atomic():
        services.risk_assess(
            risk=risk, likelihood=5, impact=5, rationale="Undone.", user=staff_member
        )
        assert _cell_codes(warm, 5, 5) == ["C1"]
        raise RuntimeError
    assert _cell_codes(warm, 5, 5) == []
    assert _cell_codes(warm, 3, 3) == ["C1"]


def test_the_day_turning_is_a_new_answer(risk):
    # "Overdue" depends on the date: tomorrow's grid is not today's.
    risk.next_review_due = timezone.localdate()
    risk.save()

    def overdue() -> bool:
        grid = selectors.heatmap_grid(risks=selectors.heatmap_risks())
        return next(e for c in grid.cells for e in c.entries if e.code == "C1").overdue

    assert not overdue()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2), tick=False):
        assert overdue()
