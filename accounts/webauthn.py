"""WebAuthn (security keys, passkeys) as a second factor: django-otp-webauthn's helper with
the origin taken from the request (settings: "Second factor"), and defensive reading of what
the browser sends. The views are in accounts/views.py, the writes in accounts/services.py."""

from __future__ import annotations

from django.conf import settings
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.helpers import WebAuthnHelper as PackageHelper


class KeyAlreadyRegistered(OTPWebAuthnApiError):
    status_code = 409
    default_detail = "This key is registered already."
    default_code = "credential_exists"


def expected_origin(request) -> str | None:
    """This request's own origin, when a key may be used from it: the host (already checked
    against ALLOWED_HOSTS by Django) is the RP id or under it, and the scheme is https when
    DJANGO_HTTPS is on. None otherwise, and every ceremony from there fails."""
    host = request.get_host().lower()
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    rp_id = settings.WEBAUTHN_RP_ID
    if hostname != rp_id and not hostname.endswith(f".{rp_id}"):
        return None
    if settings.HTTPS and not request.is_secure():
        return None
    return f"{request.scheme}://{host}"


class WebAuthnHelper(PackageHelper):
    def get_allowed_origins(self) -> list[str]:
        origin = expected_origin(self.request)
        return [origin] if origin else []

    def _check_discoverable(self, original_data: dict) -> bool | None:
        """The browser's unsigned hint whether the key stored the credential; anything but
        {"credProps": {"rk": <bool>}} counts as no hint (the package's reading would fail on a
        list or a string there)."""
        results = original_data.get("clientExtensionResults")
        props = results.get("credProps") if isinstance(results, dict) else None
        rk = props.get("rk") if isinstance(props, dict) else None
        return rk if isinstance(rk, bool) else None
