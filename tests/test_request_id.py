"""Every request has an id, returned in X-Request-ID; every log line written while it is served
(the access log, security events, errors) carries the id, the user and the real client
address."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client

from accounts.logs import RequestContextFilter

pytestmark = pytest.mark.django_db

PROXY, CLIENT = "10.0.0.2", "203.0.113.5"


@pytest.fixture
def records(caplog, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    caplog.set_level(logging.INFO)
    # caplog's handler is not the configured one: give it the same filter.
    caplog.handler.addFilter(RequestContextFilter())
    return caplog


def _client():
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)


def test_a_well_formed_incoming_id_is_kept(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123.DEF_456")
    assert response["X-Request-ID"] == "abc-123.DEF_456"


@pytest.mark.parametrize("sent", ["", "has space", "a\nb", "x" * 129, "-leading-dash", "é"])
def test_a_malformed_id_is_replaced(client, sent):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_ids_differ_between_requests(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_the_access_log_says_who_from_where_and_which_request(records, board_member):
    client = _client()
    client.force_login(board_member)
    response = client.get("/risks/", HTTP_X_REQUEST_ID="req-42")
    (line,) = [r for r in records.records if r.name == "access"]
    assert (line.request_id, line.user, line.client_ip) == ("req-42", board_member.username, CLIENT)
    assert (line.method, line.path, line.status) == ("GET", "/risks/", response.status_code)


def test_security_events_and_errors_carry_the_request_id(records, board_member):
    client = _client()
    client.post(
        "/accounts/login/",
        {"username": board_member.username, "password": "wrong"},
        HTTP_X_REQUEST_ID="req-failed-sign-in",
    )
    (event,) = [r for r in records.records if getattr(r, "event", "") == "sign_in.failed"]
    assert (event.request_id, event.user, event.client_ip) == (
        "req-failed-sign-in",
        board_member.username,
        CLIENT,
    )
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")
    (warning,) = [r for r in records.records if r.name == "django.request"]
    assert (warning.request_id, warning.client_ip) == ("req-404", CLIENT)


def test_a_line_outside_any_request_says_so(records):
    logging.getLogger("risks").info("a command's line")
    (line,) = [r for r in records.records if r.name == "risks"]
    assert (line.request_id, line.user, line.client_ip) == ("-", "-", "-")


def test_the_json_and_text_formats_print_the_fields(settings):
    from pythonjsonlogger.json import JsonFormatter

    record = logging.LogRecord("access", logging.INFO, __file__, 1, "GET /", None, None)
    RequestContextFilter().filter(record)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "-"
    text = settings.LOGGING["formatters"]["text"]["format"]
    assert "%(request_id)s" in text and "%(user)s" in text and "%(client_ip)s" in text
