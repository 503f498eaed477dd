"""The OpenAPI description of the token header (the same scheme DRF's token had)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                'Send "Token <key>". Keys expire (90 days by default); get one on '
                "/accounts/tokens/ or with `make token USER=<username>`."
            ),
        }
