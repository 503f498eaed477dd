"""The request being served, for every log line: its id, the user and the real client address.

RequestContextMiddleware (accounts/middleware.py) sets the request here for the length of the
request; RequestContextFilter, on the one log handler (settings.LOGGING), adds the three fields
to every record that does not carry them already, so the access log, the security log, Django's
error log and gunicorn's lines all say which request, who and from where."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from django.utils.functional import SimpleLazyObject, empty

from accounts.client import client_address

current_request: ContextVar = ContextVar("current_request", default=None)

# A caller's X-Request-ID is honoured only when it looks like an id: 1-128 characters of
# letters, digits, ".", "_", ":" and "-", starting with a letter or digit. Anything else (a
# newline, a space, a very long value) is replaced by a new id.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_for(header: str | None) -> str:
    if header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def username_of(request) -> str | None:
    """The signed-in user's name, without touching the database: a user not yet read (the
    lazy object unevaluated) counts as unknown."""
    user = getattr(request, "__dict__", {}).get("user")
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.get_username()


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request.get()
        if request is None:
            # django.request logs a 4xx/5xx answer after the middleware has finished; its
            # records carry the request itself.
            candidate = getattr(record, "request", None)
            request = candidate if hasattr(candidate, "META") else None
        if not hasattr(record, "request_id"):
            record.request_id = getattr(request, "request_id", None) or "-"
        if not hasattr(record, "user"):
            record.user = (username_of(request) if request is not None else None) or "-"
        if not hasattr(record, "client_ip"):
            record.client_ip = (client_address(request) if request is not None else None) or "-"
        return True
