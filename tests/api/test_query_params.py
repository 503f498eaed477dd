"""A query parameter the operation does not take answers 400 naming it; every parameter the
schema documents is taken. The two lists are the same (common.api.StrictQueryParams)."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest

from tests.openapi_check import schema

pytestmark = pytest.mark.django_db

UNKNOWN = "Unknown query parameter"
EXAMPLE_PATH_VALUES = {
    "code": "R1",
    "id": "1",
    "number": "1",
    "quarter": "2027-Q1",
    "sequence": "1",
}


@pytest.fixture
def reader(client, auditor):
    client.force_login(auditor)
    return client


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/risks/?year=2026", "year"),
        ("/api/v1/risks/?phase=1&Status=open", "Status"),
        ("/api/v1/risks/R1/?status=open", "status"),  # filters apply to lists only
        ("/api/v1/heatmap/?bassis=target", "bassis"),
        ("/api/v1/history/?users=sam", "users"),
        ("/api/v1/triggers/?page=2", "page"),  # a cursor-paged log has no page numbers
        ("/api/v1/triggers/verify/?ordering=sequence", "ordering"),
        ("/api/v1/risks/?format=xml", "format"),
    ],
)
def test_unknown_parameter_is_400_naming_it(reader, url, name):
    response = reader.get(url)
    assert response.status_code == HTTPStatus.BAD_REQUEST, url
    body = response.json()
    assert name in body, body
    assert len(body) == 1, body


def test_the_message_lists_what_is_taken(reader):
    message = reader.get("/api/v1/risks/?year=2026").json()["year"][0]
    assert message.startswith(UNKNOWN)
    assert "phase" in message
    assert "ordering" in message


def test_writes_refuse_unknown_parameters_too(client, staff_member):
    client.force_login(staff_member)
    response = client.post(
        "/api/v1/assessments/?dry_run=1", data={}, content_type="application/json"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["dry_run"]


def test_anonymous_is_still_401(client):
    assert client.get("/api/v1/risks/?year=2026").status_code == HTTPStatus.UNAUTHORIZED


def test_every_documented_parameter_is_taken_and_nothing_else(reader, seed):
    # One test over every GET operation: the seed loads once.
    refused, taken = [], []
    for path, operations in schema()["paths"].items():
        if "get" not in operations:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: EXAMPLE_PATH_VALUES[m[1]], path)
        documented = {
            p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"
        }
        for name in sorted(documented):
            value = "json" if name == "format" else "1"
            response = reader.get(url, {name: value})
            if response.status_code == HTTPStatus.BAD_REQUEST and any(
                UNKNOWN in str(m) for m in response.json().get(name, [])
            ):
                refused.append((path, name))
        response = reader.get(url, {"not_a_parameter": "1"})
        if "not_a_parameter" not in response.json():
            taken.append(path)
    assert not refused, f"documented but refused: {refused}"
    assert not taken, f"an undocumented parameter was taken: {taken}"
