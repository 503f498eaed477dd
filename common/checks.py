"""Closed by default: a server with debug off does not start on the development secret key.

config/wsgi.py and config/asgi.py call `refuse_insecure_start()` before serving (gunicorn and
runserver run no deployment checks); `check --deploy` reports the same as common.E003."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

KEY_MISSING = (
    "DJANGO_SECRET_KEY is not set and DJANGO_DEBUG is off: the server will not start on the "
    "public development key (sessions, CSRF tokens and password-reset links would be forgeable)."
)
HINT = (
    "Set DJANGO_SECRET_KEY to 50 or more random characters, e.g. "
    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
)


def _dev_key_in_production() -> bool:
    return not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY


@checks.register(checks.Tags.security, deploy=True)
def secret_key_check(app_configs, **kwargs):
    if _dev_key_in_production():
        return [checks.Error(KEY_MISSING, hint=HINT, id="common.E003")]
    return []


def refuse_insecure_start() -> None:
    if _dev_key_in_production():
        raise ImproperlyConfigured(f"{KEY_MISSING} {HINT}")
