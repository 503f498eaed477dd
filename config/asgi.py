"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

# As config/wsgi.py: with DEBUG off, never serve on the development secret key.
from common.checks import refuse_insecure_start  # noqa: E402

refuse_insecure_start()
