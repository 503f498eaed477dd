"""Every API response a test receives is checked against the OpenAPI schema (openapi-core):
its status must be documented for the operation, and its body must match the documented
schema for its media type. A drift between the API and /api/schema/ fails the test that saw it.

Used by the Django test client (tests/conftest.py) and the live-server client
(tests/api/conftest.py)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from django.urls import Resolver404, resolve
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import plain_loads
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

CHECKED_PREFIX = "/api/v1/"
# The API root (a list of links) is not an operation of the schema.
UNCHECKED_PATHS = {"/api/v1/"}


@functools.cache
def schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


def _nullable_refs(node):
    """drf-spectacular writes a nullable nested object as `{allOf: [{$ref}], nullable: true}`;
    openapi-core (OpenAPI 3.0) checks the referenced schema, which is not nullable, and
    refuses the null. Read it as meant: the referenced object, or null."""
    if isinstance(node, list):
        return [_nullable_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_refs(value) for key, value in node.items()}
    all_of = node.get("allOf")
    if node.get("nullable") and isinstance(all_of, list) and len(all_of) == 1:
        null = {"type": "string", "nullable": True, "enum": [None]}
        rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
        return {**rest, "anyOf": [all_of[0], null]}
    return node


@functools.cache
def openapi() -> OpenAPI:
    text = {"text/csv": plain_loads, "application/x-pem-file": plain_loads}
    config = Config(extra_media_type_deserializers=text)
    return OpenAPI.from_dict(_nullable_refs(schema()), config=config)


@dataclass
class CheckedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    host_url: str = "http://testserver"
    body: bytes | None = None
    content_type: str = "application/json"
    parameters: RequestParameters = field(init=False)

    def __post_init__(self):
        self.method = self.method.lower()
        self.parameters = RequestParameters(query=ImmutableMultiDict(self.query))


@dataclass
class CheckedResponse:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes


def check(*, method: str, url: str, status: int, headers, body: bytes) -> None:
    """Raise AssertionError if the response is not what the schema documents."""
    parts = urlsplit(url)
    if not parts.path.startswith(CHECKED_PREFIX) or parts.path in UNCHECKED_PATHS:
        return
    if status >= 500:
        return  # a server error is a failure the test that caused it asserts on, not a contract
    try:
        resolve(unquote(parts.path))
    except Resolver404:
        return  # no view at all (e.g. a malformed code): the URL resolver's 404, not an operation
    request = CheckedRequest(
        method=method, path=parts.path, query=parse_qsl(parts.query, keep_blank_values=True)
    )
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
    response = CheckedResponse(
        status_code=status,
        content_type=content_type or "application/json",
        headers=Headers(list(headers.items())),
        data=body,
    )
    try:
        openapi().validate_response(request, response)
    except (PathNotFound, OperationNotFound):
        # A method the resource does not have is no operation: it answers 405, or 401/403
        # first to a caller who may not ask at all.
        if status in (401, 403, 405):
            return
        raise AssertionError(f"{method} {parts.path}: not an operation of the schema") from None
    except Exception as exc:
        detail = "; ".join(str(e) for e in getattr(exc, "schema_errors", ()) or [exc])
        raise AssertionError(
            f"{method} {url} answered {status} {content_type}, not as /api/schema/ documents "
            f"it: {type(exc).__name__}: {detail}\nbody: {body[:300]!r}"
        ) from None
