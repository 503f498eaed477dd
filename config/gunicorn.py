"""gunicorn settings for `make serve`: its error and access logs go through the same single
handler and format as Django's (JSON unless DJANGO_LOG_FORMAT=text), never a second copy."""

from __future__ import annotations

import copy
import os

from config.settings import LOGGING

logconfig_dict = copy.deepcopy(LOGGING)
logconfig_dict["loggers"].update(
    {
        "gunicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
        # The app writes the access log itself (logger "access": request id, user, real
        # client); gunicorn's own line would repeat every request without them.
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
    }
)

# Only the proxy on this machine may say the request came over HTTPS (X-Forwarded-Proto):
# `make serve` binds to 127.0.0.1 behind it. A proxy elsewhere: list its address here.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
