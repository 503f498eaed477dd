"""Strict reading of the environment. django-environ reads any boolean it does not recognise
as false, so `DJANGO_HTTPS=ture` would quietly turn HTTPS off; here every boolean, whole
number and URL setting is checked, and a bad value stops start-up naming the variable.
An empty value counts as unset (the default applies)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

NOTSET = environ.Env.NOTSET
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})
# django-environ still maps memcache:// to MemcachedCache, which Django 4.1 removed: a URL
# naming it would start and then fail at the first request.
CACHE_SCHEMES = {
    scheme: backend
    for scheme, backend in environ.Env.CACHE_SCHEMES.items()
    if not backend.endswith(".MemcachedCache")
}


class StrictEnv(environ.Env):
    def _raw(self, var: str) -> str | None:
        value = self.ENVIRON.get(var)
        return None if value is None or not value.strip() else value.strip()

    def bool(self, var: str, default=NOTSET) -> bool:
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise ImproperlyConfigured(
            f"{var}={raw!r} is not a boolean: use 1, true, yes or on; 0, false, no or off."
        )

    def int(self, var: str, default=NOTSET) -> int:
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        try:
            return int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{var}={raw!r} is not a whole number.") from None

    def url(self, var: str, default=NOTSET):
        raw = self._raw(var)
        if raw is not None:
            parts = urlsplit(raw)
            if not parts.scheme or not (parts.netloc or parts.path):
                raise ImproperlyConfigured(f"{var} is not a URL (scheme://...).")
        return super().url(var, default=default)

    def db_url(self, var: str = environ.Env.DEFAULT_DATABASE_ENV, default=NOTSET, engine=None):
        self._known_scheme(var, environ.Env.DB_SCHEMES)
        if self._raw(var) is None:  # unset or empty: the default, parsed the same way
            return self.db_url_config(self._default(var, default), engine=engine)
        return self._parsed(var, super().db_url, default=default, engine=engine)

    def cache_url(self, var: str = environ.Env.DEFAULT_CACHE_ENV, default=NOTSET, backend=None):
        self._known_scheme(var, CACHE_SCHEMES)
        self._redis_location(var)
        # Not through self.url: `locmemcache://` and `dummycache://` name no host or path.
        url = self._raw(var) or self._default(var, default)
        return self._parsed(var, lambda _: self.cache_url_config(url, backend=backend))

    db = db_url
    cache = cache_url

    def _known_scheme(self, var: str, schemes) -> None:
        raw = self._raw(var)
        if raw is None:
            return
        scheme = urlsplit(raw).scheme
        if "://" not in raw or scheme not in schemes:
            known = ", ".join(sorted(s for s in schemes if "_" not in s and "-" not in s))
            # The value is not repeated: a URL may hold a password.
            raise ImproperlyConfigured(
                f"{var} is not a URL this site understands (scheme {scheme or 'missing'!r}; "
                f"give scheme://..., one of: {known})."
            )

    def _redis_location(self, var: str) -> None:
        """django-environ passes a Redis URL on as it is, and django-redis reads it at the
        first request; a bad port or database number must stop start-up instead."""
        raw = self._raw(var)
        if raw is None or not urlsplit(raw).scheme.startswith(("redis", "valkey")):
            return
        parts = urlsplit(raw)
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise ImproperlyConfigured(
                f"{var} could not be read: its port is not a number."
            ) from None
        if not parts.hostname and not parts.path:
            raise ImproperlyConfigured(f"{var} could not be read: it names no host.")
        if parts.hostname and parts.path.strip("/") and not parts.path.strip("/").isdigit():
            raise ImproperlyConfigured(
                f"{var} could not be read: the database ({parts.path!r}) is not a number."
            )

    def _parsed(self, var: str, parse, **kwargs):
        try:
            return parse(var, **kwargs)
        except ImproperlyConfigured:
            raise
        except (ValueError, TypeError) as error:
            raise ImproperlyConfigured(f"{var} could not be read: {error}") from None

    def _default(self, var: str, default):
        if default is NOTSET:
            raise ImproperlyConfigured(f"Set the environment variable {var}.")
        return default


# A DNS name: labels of letters, digits and hyphens, not starting or ending with a hyphen.
DOMAIN_NAME = re.compile(r"(?=.{1,253}\Z)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*")


def webauthn_rp_id(raw: str, allowed_hosts: list[str]) -> str:
    """The WebAuthn relying party id: `raw` (DJANGO_WEBAUTHN_RP_ID) when given, else the first
    domain name in ALLOWED_HOSTS. It must be a domain name (browsers refuse an IP address),
    and this site must answer on it or a subdomain of it, or start-up stops."""
    hosts = [host.strip().lower().lstrip(".") for host in allowed_hosts if host.strip()]
    if raw.strip():
        rp_id = raw.strip().lower()
        variable = f"DJANGO_WEBAUTHN_RP_ID={raw.strip()!r}"
    else:
        names = [host for host in hosts if host != "*" and not _is_ip(host)]
        if not names:
            raise ImproperlyConfigured(
                "DJANGO_ALLOWED_HOSTS holds no domain name for WebAuthn keys: set "
                "DJANGO_WEBAUTHN_RP_ID to the site's domain."
            )
        rp_id = names[0]
        variable = f"The WebAuthn relying party id {rp_id!r} (from DJANGO_ALLOWED_HOSTS)"
    if _is_ip(rp_id) or not DOMAIN_NAME.fullmatch(rp_id):
        raise ImproperlyConfigured(f"{variable} is not a domain name.")
    if "*" not in hosts and not any(host == rp_id or host.endswith(f".{rp_id}") for host in hosts):
        raise ImproperlyConfigured(
            f"{variable} is neither a host of DJANGO_ALLOWED_HOSTS nor a parent domain of one."
        )
    return rp_id


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
