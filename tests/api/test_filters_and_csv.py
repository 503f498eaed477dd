"""Filters answer 400 for bad values, never an unfiltered list; every list speaks CSV."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("phase=2", {"R1", "R2", "R3", "R4", "R5"}),
        ("rating=Critical", {"R1", "R4"}),
        ("score_min=15", {"R1", "R3", "R4"}),
        ("score_max=9", {"R2", "R5"}),
        ("category=security", {"R3"}),
    ],
)
def test_risk_filters(api, auditor, seed, query, codes):
    response = api(auditor).get(f"/api/v1/risks/?{query}")
    assert response.status_code == HTTPStatus.OK
    found = {row["code"] for row in response.json()["results"]}
    assert found <= codes if query == "phase=2" else found == codes


@pytest.mark.parametrize(
    "query",
    [
        "phase=9",
        "agency=NOPE",
        "rating=Catastrophic",
        "score_min=ten",
        "status=gone",
        "updated_after=yesterday",
        "review_overdue=perhaps",
    ],
)
def test_invalid_filter_value_is_400_naming_the_parameter(api, auditor, seed, query):
    response = api(auditor).get(f"/api/v1/risks/?{query}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert query.split("=")[0] in response.json()


def test_agency_filter_matches_owner_or_supporting_once(api, auditor, seed):
    rows = api(auditor).get("/api/v1/risks/?agency=STATE").json()["results"]
    codes = [row["code"] for row in rows]
    assert codes and len(codes) == len(set(codes))


def test_ordering(api, auditor, seed):
    rows = api(auditor).get("/api/v1/risks/?ordering=code").json()["results"]
    assert [row["code"] for row in rows] == ["R1", "R2", "R3", "R4", "R5"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/risks/",
        "/api/v1/assessments/",
        "/api/v1/mitigations/",
        "/api/v1/phases/",
        "/api/v1/agencies/",
        "/api/v1/key-actions/",
        "/api/v1/metrics/",
    ],
)
def test_every_list_exports_csv_with_a_header(api, auditor, seed, path):
    response = api(auditor).get(path + "?format=csv")
    assert response.status_code == HTTPStatus.OK
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows


def test_risk_csv_is_flat_and_filtered(api, auditor, seed):
    response = api(auditor).get("/api/v1/risks/?format=csv&rating=Critical")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["code"] for row in rows] == ["R1", "R4"]
    assert rows[1]["likelihood_level"] == "4"
    assert rows[1]["likelihood_label"] == "Medium-High"


def test_key_actions_filter_by_phase_agency_status(api, auditor, seed):
    client = api(auditor)
    rows = client.get("/api/v1/key-actions/?phase=1&agency=DEA").json()["results"]
    assert [row["title"] for row in rows] == [
        "Establish interagency working group on precursor chemical diplomacy"
    ]
    assert client.get("/api/v1/key-actions/?status=nope").status_code == HTTPStatus.BAD_REQUEST
