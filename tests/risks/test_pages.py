"""The heatmap, the register list and a risk's page, as the board sees them."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AssessmentFactory, MitigationActionFactory, PhaseFactory, RiskFactory

pytestmark = pytest.mark.django_db

PAGES = ["/heatmap/", "/risks/", "/risks/T1/"]


@pytest.fixture
def board_client(client, board_member):
    client.force_login(board_member)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_login(client, path):
    RiskFactory(code="T1")
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_outsider_is_refused(client, outsider, path):
    RiskFactory(code="T1")
    client.force_login(outsider)
    assert client.get(path).status_code == HTTPStatus.FORBIDDEN


def test_heatmap_places_each_risk_and_labels_cells_in_text(board_client):
    RiskFactory(code="T1", likelihood=5, impact=5)
    RiskFactory(code="T2", likelihood=1, impact=2)

    response = board_client.get("/heatmap/")

    assert response.status_code == HTTPStatus.OK
    rows = response.context["grid"].rows
    assert rows[0][4].risks == ["T1"]  # top row is likelihood 5, last column impact 5
    assert rows[4][1].risks == ["T2"]
    html = response.content.decode()
    assert 'href="/risks/T1/"' in html
    assert "Critical · 25" in html  # band named in text, never colour alone
    assert "Risk appetite" in html
    assert 'href="/risks/"' in html  # the register list is one click away


def test_heatmap_filters_by_phase_and_basis(board_client):
    phase = PhaseFactory(number=2)
    RiskFactory(code="T1", likelihood=5, impact=5, target_likelihood=2, target_impact=2)
    RiskFactory(
        code="T2", likelihood=4, impact=4, target_likelihood=1, target_impact=1, phases=[phase]
    )

    grid = board_client.get("/heatmap/?phase=2").context["grid"]
    assert [c.risks for c in grid.cells if c.count] == [["T2"]]
    grid = board_client.get("/heatmap/?basis=target").context["grid"]
    assert grid.rows[3][1].risks == ["T1"]


def test_heatmap_marks_overdue_and_low_confidence(board_client):
    import datetime

    risk = RiskFactory(code="T1", next_review_due=datetime.date(2020, 1, 1))
    risk.confidence = "low"
    risk.save()
    html = board_client.get("/heatmap/").content.decode()
    assert "review overdue" in html
    assert "low confidence" in html


def test_heatmap_bad_filter_is_400_with_a_message(board_client):
    response = board_client.get("/heatmap/?basis=nonsense")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Select a valid choice" in response.content.decode()


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == HTTPStatus.OK
    return len(queries)


def test_heatmap_page_queries_do_not_grow(board_client):
    RiskFactory.create_batch(3)
    few = _queries(board_client, "/heatmap/")
    RiskFactory.create_batch(40)
    assert _queries(board_client, "/heatmap/") == few


def test_register_list_queries_do_not_grow(board_client):
    RiskFactory.create_batch(3)
    few = _queries(board_client, "/risks/")
    RiskFactory.create_batch(40)
    assert _queries(board_client, "/risks/") == few


def test_risk_page_shows_everything_in_constant_queries(board_client):
    risk = RiskFactory(code="T1")
    MitigationActionFactory(risk=risk, title="Build the coalition")
    few = _queries(board_client, "/risks/T1/")
    for _ in range(10):
        AssessmentFactory(risk=risk, rationale="Reviewed again.")
        MitigationActionFactory(risk=risk)
    assert _queries(board_client, "/risks/T1/") == few
    html = board_client.get("/risks/T1/").content.decode()
    assert "Build the coalition" in html
    assert "Reviewed again." in html
    assert risk.contingency_plan in html


def test_unknown_risk_is_404(board_client):
    assert board_client.get("/risks/R404/").status_code == HTTPStatus.NOT_FOUND
