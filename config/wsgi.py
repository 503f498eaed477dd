"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: load the trigger log's signing key now, so a server without
# one (DEBUG off) refuses to start instead of failing at the first contingency.
from common.signing import private_key  # noqa: E402

private_key()
