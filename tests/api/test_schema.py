"""The OpenAPI schema and its interactive docs, served from our own static files."""

from __future__ import annotations

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


def test_schema_documents_every_resource(client, auditor):
    client.force_login(auditor)
    response = client.get("/api/schema/?format=json")
    assert response.status_code == HTTPStatus.OK
    paths = response.json()["paths"]
    for resource in [
        "risks",
        "assessments",
        "mitigations",
        "phases",
        "agencies",
        "key-actions",
        "metrics",
        "heatmap",
    ]:
        assert f"/api/v1/{resource}/" in paths
    risk_params = {p["name"] for p in paths["/api/v1/risks/"]["get"]["parameters"]}
    assert {"phase", "agency", "rating", "score_min", "review_overdue", "as_of"} <= risk_params


def test_docs_page_uses_local_assets_only(client, auditor):
    client.force_login(auditor)
    response = client.get("/api/docs/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "<script>" not in html  # the init script is a separate file: CSP allows no inline


def test_schema_needs_login(client):
    assert client.get("/api/schema/").status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
