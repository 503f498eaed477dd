"""gunicorn settings for `make serve`: its error and access logs go through the same single
handler and format as Django's (JSON unless DJANGO_LOG_FORMAT=text), never a second copy."""

from __future__ import annotations

import copy

from config.settings import LOGGING

logconfig_dict = copy.deepcopy(LOGGING)
logconfig_dict["loggers"].update(
    {
        "gunicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
        "gunicorn.access": {"handlers": [], "level": "INFO", "propagate": True},
    }
)
