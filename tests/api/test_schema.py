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
        "triggers",
        "indicators",
        "breaches",
        "reviews",
        "history",
    ]:
        assert f"/api/v1/{resource}/" in paths
    for path in [
        "/api/v1/risks/{code}/invoke-contingency/",
        "/api/v1/risks/{code}/stand-down/",
        "/api/v1/risks/{code}/contingency-update/",
        "/api/v1/triggers/verify/",
        "/api/v1/breaches/{id}/dismiss/",
        "/api/v1/metrics/{id}/readings/",
        "/api/v1/reviews/{quarter}/snapshots/",
    ]:
        assert path in paths
    risk_params = {p["name"] for p in paths["/api/v1/risks/"]["get"]["parameters"]}
    assert {"phase", "agency", "rating", "score_min", "review_overdue", "as_of"} <= risk_params
    history_params = {p["name"] for p in paths["/api/v1/history/"]["get"]["parameters"]}
    assert {"model", "object", "risk", "user", "after", "before", "cursor"} <= history_params


def test_every_operation_documents_its_errors(client, auditor):
    client.force_login(auditor)
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch"):
                assert "400" in codes, (method, path)
    patch = paths["/api/v1/risks/{code}/"]["patch"]
    assert {"409", "412", "428"} <= set(patch["responses"])
    assert "If-Match" in {p["name"] for p in patch["parameters"]}
    assert "ETag" in paths["/api/v1/risks/{code}/"]["get"]["responses"]["200"]["headers"]
    invoke = paths["/api/v1/risks/{code}/invoke-contingency/"]["post"]
    assert {"201", "400", "403", "404", "409"} <= set(invoke["responses"])


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


def test_nullable_relations_are_typed_nullable(client, auditor):
    client.force_login(auditor)
    components = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    for component, field in [
        ("Agency", "parent"),
        ("Risk", "closed_by"),
        ("Assessment", "assessed_by"),
        ("Assessment", "previous_score"),
        ("Breach", "resolved_by"),
        ("BoardReview", "finalised_by"),
    ]:
        assert components[component]["properties"][field].get("nullable") is True, field
    assert not components["TriggerEntry"]["properties"]["recorded_by"].get("nullable")


def test_heatmap_documents_its_filters(client, auditor):
    client.force_login(auditor)
    heatmap = client.get("/api/schema/?format=json").json()["paths"]["/api/v1/heatmap/"]["get"]
    names = {p["name"] for p in heatmap["parameters"]}
    assert {"as_of", "phase", "agency", "category", "status", "basis"} <= names


def test_every_status_and_media_type_is_documented(client, auditor):
    client.force_login(auditor)
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "401", "403", "406", "429"} <= set(responses), (method, path)
            is_list = "Paginated" in str(responses.get("200", ""))
            for code, response in responses.items():
                content = response.get("content", {})
                # Data as JSON also comes as CSV; a key served as PEM is not data.
                if code.startswith("2") and method == "get" and "application/json" in content:
                    assert content["text/csv"]["schema"]["type"] == "string", (method, path)
                else:
                    assert "text/csv" not in content, (method, path, code)
            if method == "get" and is_list:
                assert "404" in responses, path  # page out of range, bad cursor
    lists = paths["/api/v1/risks/"]["get"]["responses"]
    assert "page" in lists["404"]["description"]


def test_no_operation_shows_a_code_comment(client, auditor):
    client.force_login(auditor)
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            description = operation.get("description", "")
            assert "Mixed into" not in description, (method, path)
            assert "schema" not in description.lower(), (method, path)
    assert paths["/api/v1/agencies/"]["get"]["description"].startswith("The agencies")
