"""API tests speak real HTTP to a live server, with token authentication."""

from __future__ import annotations

import pytest
import requests
from django.core.cache import cache

from accounts.services import token_create
from tests.openapi_check import check


class ApiClient:
    def __init__(self, base_url: str, user=None):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if user is not None:
            _, key = token_create(user=user, name="tests")
            self.session.headers["Authorization"] = f"Token {key}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        """Every answer is checked against the OpenAPI schema (tests/openapi_check.py)."""
        response = self.session.request(method, self.url(path), timeout=30, **kwargs)
        check(
            method=method,
            url=response.request.url,
            status=response.status_code,
            headers=response.headers,
            body=response.content,
        )
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.send("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.send("POST", path, json=json, **kwargs)

    def patch(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.send("PATCH", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.send("PUT", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.send("DELETE", path, **kwargs)


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """The API throttles each user per hour in the cache, keyed by user id; ids come back after
    a flush, so without this the whole suite's requests would count against one 'user'."""
    cache.clear()


@pytest.fixture
def api(live_server):
    """`api(user)` gives a client authenticated as `user`; `api()` is anonymous."""

    def make(user=None) -> ApiClient:
        return ApiClient(live_server.url, user)

    return make
