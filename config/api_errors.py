"""The API's error answers: JSON with field messages, never a 500 for bad input."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from config.api import Conflict


def exception_handler(exc, context):
    # Services raise Django's ValidationError; the API answers it as a 400 with field messages.
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, ProtectedError):
        exc = Conflict("This record has history and cannot be deleted.")
    return drf_exception_handler(exc, context)
