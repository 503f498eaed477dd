"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: with DEBUG off, refuse the development secret key, and load
# the trigger log's signing key now, so a server without one refuses to start instead of
# failing at the first contingency.
from common.checks import refuse_insecure_start  # noqa: E402
from common.signing import private_key  # noqa: E402

refuse_insecure_start()
private_key()
