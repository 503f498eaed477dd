"""Security events: one logger, one line per event, saying who, from where and what."""

from __future__ import annotations

import logging

from accounts.client import client_address

logger = logging.getLogger("security")


def _printable(text: str) -> str:
    """A typed username goes into the log as written, but a control character in it cannot
    start a forged line in a text log."""
    text = str(text)[:150]
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def security_event(
    event: str, *, request=None, username: str | None = None, level=logging.INFO, **fields
) -> None:
    """Log `event` (e.g. "sign_in.failed") with the username and the client's real address.
    Extra keyword fields become fields of the JSON log record."""
    if username is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            username = user.get_username()
    if username is not None:
        username = _printable(username)
    address = client_address(request) if request is not None else None
    logger.log(
        level,
        "%s user=%s client=%s",
        event,
        username or "-",
        address or "-",
        extra={
            "event": event,
            "user": username,
            "client_ip": address,
            # Also when logged after the request (the end of a streamed export).
            **({"request_id": request.request_id} if hasattr(request, "request_id") else {}),
            **fields,
        },
    )
