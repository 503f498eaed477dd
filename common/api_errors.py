"""The API's error answers: JSON with field messages, never a 500 for bad input."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from common.api import Conflict, PreconditionFailed, RequestTooLarge, stale_payload
from common.versions import StaleEdit, StateConflict

logger = logging.getLogger(__name__)


def _messages(exc: DjangoValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}


def exception_handler(exc, context):
    # StateConflict subclasses Django's ValidationError: valid input the record's state refuses
    # (invoking an active contingency, a stale version) is a 409, not a 400.
    if isinstance(exc, StaleEdit):
        response = drf_exception_handler(Conflict(exc.messages[0]), context)
        response.data = stale_payload(exc)
        return response
    if isinstance(exc, StateConflict):
        messages = _messages(exc)
        detail = " ".join(str(m) for ms in messages.values() for m in ms)
        response = drf_exception_handler(Conflict(detail), context)
        if hasattr(exc, "error_dict"):
            response.data = {"detail": detail, **messages}
        return response
    if isinstance(exc, PreconditionFailed) and exc.stale is not None:
        response = drf_exception_handler(exc, context)
        response.data = stale_payload(exc.stale)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_messages(exc))
    elif isinstance(exc, ProtectedError):
        exc = Conflict("This record has history and cannot be deleted.")
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, IntegrityError):
        # Services turn unique clashes into field errors (common.integrity); this is the net
        # under any write that does not, so a clash is still a 409, logged to be fixed.
        logger.warning("Database refused a write: %s", exc, exc_info=True)
        exc = Conflict("The change clashes with a record saved at the same time; reload it.")
    elif isinstance(exc, DataError):
        # A value the checks above let through but the database refuses is still bad input;
        # logged, so the missing check gets written.
        logger.warning("Database refused a value: %s", exc, exc_info=True)
        exc = exceptions.ValidationError({"detail": ["The database refused a value."]})
    return drf_exception_handler(exc, context)
