"""Every CSV is a table pandas reads with its header, even empty; safe to open in a spreadsheet;
complete (nested lists too); and an error is JSON whatever format was asked for."""

from __future__ import annotations

import datetime
import io
from http import HTTPStatus

import pandas as pd
import pytest

from common.api import flatten
from risks.models import Indicator, IndicatorBreach
from risks.services import contingency_invoke, review_create, review_finalise, risk_assess
from roadmap.services import metric_reading_record
from tests.factories import (
    MetricFactory,
    MetricReadingFactory,
    MetricTargetFactory,
    MitigationActionFactory,
    RiskFactory,
)

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/risks/",
    "/api/v1/assessments/",
    "/api/v1/mitigations/",
    "/api/v1/triggers/",
    "/api/v1/indicators/",
    "/api/v1/breaches/",
    "/api/v1/reviews/",
    "/api/v1/history/",
    "/api/v1/history/?model=mitigation",
    "/api/v1/phases/",
    "/api/v1/agencies/",
    "/api/v1/key-actions/",
    "/api/v1/metrics/",
    "/api/v1/heatmap/",
]
# Their CSVs are not their JSON flattened: a row per grid cell, per target and reading.
EXPLODED = {"/api/v1/heatmap/", "/api/v1/metrics/"}
HOSTILE = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1:A9)"]
LIVE = ("=", "+", "-", "@", "\t", "\r")


def _get(client, path: str):
    return client.get(path + ("&" if "?" in path else "?") + "format=csv")


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _frame(response) -> pd.DataFrame:
    assert response.status_code == HTTPStatus.OK, _body(response)[:300]
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response["Content-Disposition"].endswith('.csv"')
    return pd.read_csv(io.BytesIO(_body(response)), dtype=str, keep_default_na=False)


def _live_cells(frame: pd.DataFrame) -> list[str]:
    cells = [str(v) for v in frame.to_numpy().ravel()] + [str(c) for c in frame.columns]
    return [c for c in cells if c.startswith(LIVE) and not _is_number(c)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def filled(seed, staff_member, board_member):
    """Every kind of record the CSVs list, with hostile text wherever text goes."""
    risk = RiskFactory(code="H1", title=HOSTILE[0], owner=HOSTILE[1], statement=HOSTILE[2])
    risk_assess(risk=risk, likelihood=5, impact=5, rationale=HOSTILE[3], user=staff_member)
    MitigationActionFactory(risk=risk, title=HOSTILE[0], description="\tTabbed")
    contingency_invoke(risk=risk, user=staff_member, reason=HOSTILE[1], evidence="\rCR")
    for indicator in Indicator.objects.select_related("metric"):
        for value in (-(10**9), 10**9):
            metric_reading_record(
                metric=indicator.metric,
                observed_on=datetime.date(2026, 1, 1 + int(value > 0)),
                value=value,
                source=HOSTILE[3],
                user=staff_member,
            )
    assert IndicatorBreach.objects.exists()
    review = review_create(
        user=board_member,
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 1),
        attendees=HOSTILE[0],
        decisions=HOSTILE[2],
    )
    return review_finalise(review=review, user=board_member)


@pytest.mark.parametrize("path", LISTS)
def test_an_empty_csv_has_the_same_header_as_a_full_one(auditor_client, path, request):
    empty = _frame(_get(auditor_client, path))
    if path != "/api/v1/heatmap/":  # the grid always has its 25 cells
        assert empty.empty
    request.getfixturevalue("filled")
    full = _frame(_get(auditor_client, path))
    assert not full.empty
    assert list(empty.columns) == list(full.columns)


def test_no_cell_starts_a_formula(auditor_client, filled):
    for path in LISTS:
        assert _live_cells(_frame(_get(auditor_client, path))) == [], path


def test_hostile_text_keeps_its_characters_after_the_apostrophe(auditor_client, filled):
    frame = _frame(_get(auditor_client, "/api/v1/risks/?ordering=code"))
    row = frame[frame["code"] == "H1"].iloc[0]
    assert row["title"] == "'" + HOSTILE[0]
    assert row["owner"] == "'" + HOSTILE[1]
    assert row["statement"] == "'-1+1"


def test_negative_numbers_stay_numbers(auditor_client, filled):
    frame = _frame(_get(auditor_client, "/api/v1/breaches/"))
    assert "-1000000000.00" in set(frame["reading_value"])


@pytest.mark.parametrize(
    "path",
    ["/api/v1/risks/R1/", "/api/v1/reviews/2027-Q1/", "/api/v1/metrics/{metric}/"],
)
def test_a_detail_csv_has_its_list_columns(auditor_client, filled, path):
    metric = MetricFactory()
    MetricTargetFactory(metric=metric)
    path = path.format(metric=metric.pk)
    one = _frame(_get(auditor_client, path))
    listed = _frame(_get(auditor_client, path.rsplit("/", 2)[0] + "/"))
    assert list(one.columns) == list(listed.columns)
    assert len(one) >= 1


def test_review_snapshots_csv_streams_every_row(auditor_client, board_member):
    for n in range(60):
        RiskFactory(code=f"S{n}")
    review = review_create(
        user=board_member, quarter="2027-Q2", meeting_date=datetime.date(2027, 6, 1), attendees="A"
    )
    review_finalise(review=review, user=board_member)
    response = _get(auditor_client, "/api/v1/reviews/2027-Q2/snapshots/")
    assert response.streaming
    frame = _frame(response)
    assert len(frame) == 60 and {"risk", "likelihood_level", "rating"} <= set(frame.columns)
    assert 'filename="review-2027-Q2-snapshots.csv"' in response["Content-Disposition"]


def test_metric_readings_csv_streams_every_row(auditor_client):
    metric = MetricFactory()
    for n in range(75):
        MetricReadingFactory(
            metric=metric, observed_on=datetime.date(2026, 1, 1) + datetime.timedelta(n)
        )
    frame = _frame(_get(auditor_client, f"/api/v1/metrics/{metric.pk}/readings/"))
    assert len(frame) == 75 and frame["observed_on"].iloc[0] == "2026-03-16"
    empty = MetricFactory()
    assert list(_frame(_get(auditor_client, f"/api/v1/metrics/{empty.pk}/readings/")).columns) == (
        list(frame.columns)
    )


def test_metrics_csv_has_a_row_per_target_and_reading(auditor_client):
    metric = MetricFactory(name="Seizures")
    MetricTargetFactory(metric=metric, year=3)
    MetricTargetFactory(metric=metric, year=5)
    MetricReadingFactory(metric=metric, value=7)
    MetricFactory(name="Nothing yet")
    frame = _frame(_get(auditor_client, "/api/v1/metrics/"))
    seizures = frame[frame["name"] == "Seizures"]
    assert sorted(seizures["row"]) == ["reading", "target", "target"]
    assert sorted(seizures["target_year"]) == ["", "3", "5"]
    assert list(frame[frame["name"] == "Nothing yet"]["row"]) == [""]
    assert not any(cell.startswith(("{", "[")) for cell in frame.to_numpy().ravel())


def test_heatmap_csv_has_a_row_per_cell(auditor_client, seed):
    frame = _frame(_get(auditor_client, "/api/v1/heatmap/?basis=target"))
    assert len(frame) == 25
    assert set(frame["basis"]) == {"target"}
    r1 = frame[frame["risks"].str.contains("R1")].iloc[0]
    assert (r1["likelihood"], r1["impact"], r1["score"]) == ("3", "4", "12")
    assert not any(cell.startswith(("{", "[")) for cell in frame.to_numpy().ravel())


@pytest.mark.parametrize(
    ("who", "path", "code"),
    [
        (None, "/api/v1/risks/", HTTPStatus.UNAUTHORIZED),
        ("outsider", "/api/v1/risks/", HTTPStatus.FORBIDDEN),
        ("auditor", "/api/v1/risks/NOPE/", HTTPStatus.NOT_FOUND),
        ("auditor", "/api/v1/risks/?status=gone", HTTPStatus.BAD_REQUEST),
        ("auditor", "/api/v1/heatmap/?basis=sideways", HTTPStatus.BAD_REQUEST),
        ("auditor", "/api/v1/reviews/2031-Q1/snapshots/", HTTPStatus.NOT_FOUND),
        ("auditor", "/api/v1/metrics/999999/readings/", HTTPStatus.NOT_FOUND),
    ],
)
def test_errors_are_json_whatever_the_format(client, request, who, path, code):
    if who:
        client.force_login(request.getfixturevalue(who))
    response = _get(client, path)
    assert response.status_code == code
    assert response["Content-Type"].startswith("application/json")
    assert response.json()


def test_every_json_field_has_its_csv_column(auditor_client, filled):
    for path in LISTS:
        if path in EXPLODED:
            continue
        header = set(_frame(_get(auditor_client, path)).columns)
        page = auditor_client.get(path + ("&" if "?" in path else "?") + "page_size=500").json()
        for row in page["results"]:
            # A null level flattens to its bare name; the CSV has its _level and _label.
            assert {k for k, v in flatten(row).items() if v != ""} <= header, path
