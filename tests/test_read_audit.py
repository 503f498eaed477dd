"""Reads are audited: every export (page and API, CSV, XLSX, PDF) and every API list page is a
security event saying who took what: the user, the client, the path, the filters and the rows."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from accounts.services import token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def reads(caplog):
    caplog.set_level(logging.INFO, logger="security")

    def events(name):
        return [r for r in caplog.records if getattr(r, "event", None) == name]

    return events


def test_a_page_csv_export_is_logged_with_its_filters_and_row_count(reads, client, auditor, seed):
    client.force_login(auditor)
    response = client.get("/risks/export.csv?status=open")
    assert reads("read.export") == []  # logged once the file has gone out, with its count
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    (event,) = reads("read.export")
    rows = len(body.strip().splitlines()) - 1  # seed titles hold no line breaks
    assert (event.user, event.path, event.filters, event.rows) == (
        auditor.username,
        "/risks/export.csv",
        {"status": "open"},
        rows,
    )
    assert event.client_ip == "127.0.0.1" and event.request_id


def test_an_xlsx_export_is_logged_with_its_row_count(reads, client, auditor, seed):
    client.force_login(auditor)
    client.get("/risks/export.xlsx")
    (event,) = reads("read.export")
    assert (event.path, event.rows, event.format) == (
        "/risks/export.xlsx",
        5,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def test_api_list_pages_and_csv_pulls_are_logged(reads, auditor, seed):
    _, key = token_create(user=auditor, name="pull")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    client.get("/api/v1/risks/?category=security")
    (listed,) = reads("read.list")
    assert (listed.user, listed.path, listed.filters) == (
        auditor.username,
        "/api/v1/risks/",
        {"category": "security"},
    )
    assert listed.rows == listed.total
    response = client.get("/api/v1/assessments/?format=csv")
    b"".join(response.streaming_content)
    (exported,) = reads("read.export")
    assert (exported.path, exported.filters["format"]) == ("/api/v1/assessments/", "csv")
    assert exported.rows > 0


def test_a_detail_read_is_not_a_bulk_pull(reads, auditor, seed):
    _, key = token_create(user=auditor, name="pull")
    Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/risks/R1/")
    assert reads("read.list") == [] and reads("read.export") == []
