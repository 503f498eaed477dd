"""The response headers ASVS V14.4 asks for, on a signed-in page and on the API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/api/v1/risks/"])
def test_every_answer_carries_the_protective_headers(client, board_member, path):
    client.force_login(board_member)
    response = client.get(path)
    assert response.status_code == 200
    # HTML names its charset; JSON is UTF-8 by definition (RFC 8259).
    assert response["Content-Type"] in ("text/html; charset=utf-8", "application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "Server" not in response  # no version banner from the app
