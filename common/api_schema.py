"""The schema class and the base every API view mixes in. Kept apart from common/api.py,
which the REST_FRAMEWORK settings name: drf-spectacular's AutoSchema imports DRF's views,
whose class attributes read those settings, so the two cannot share a module."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

from common.api import (
    ERRORS,
    ETAG_HEADER,
    FORMAT_PARAMETER,
    IF_MATCH_PARAMETER,
    CSVExportMixin,
    JSONErrorsMixin,
    JSONParser,
    VersionedMixin,
    error,
)


class ApiSchema(AutoSchema):
    """AutoSchema that adds the error answers each operation can give (explicit ones from
    extend_schema win), the `format` parameter of CSV lists and If-Match / ETag of versioned
    records."""

    def error_codes(self) -> set[int]:
        codes = {401, 403}
        view, method = self.view, self.method
        if method in ("POST", "PUT", "PATCH"):
            codes |= {400, 413}
        filtered = getattr(view, "filterset_class", None) and getattr(view, "filter_backends", 1)
        if method == "GET" and (self._is_list_view() or filtered):
            codes.add(400)
        if "{" in self.path:
            codes.add(404)
        if isinstance(view, VersionedMixin) and method in ("PUT", "PATCH"):
            codes |= {409, 412, 428}
        return codes

    def _get_response_bodies(self, direction="response"):
        # Here rather than in get_response_serializers, which @extend_schema overrides.
        responses = super()._get_response_bodies(direction)
        for code in sorted(self.error_codes() - {int(c) for c in responses}):
            (_, media_type), response = error(code, ERRORS[code])
            responses[str(code)] = self._get_response_for_code(
                response, str(code), [media_type], direction
            )
        return responses

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        csv_action = getattr(self.view, "action", None) in ("list", "retrieve")
        if self.method == "GET" and csv_action and isinstance(self.view, CSVExportMixin):
            parameters.append(FORMAT_PARAMETER)
        if isinstance(self.view, VersionedMixin):
            if self.method in ("PUT", "PATCH"):
                parameters.append(IF_MATCH_PARAMETER)
            if self.method in ("GET", "PUT", "PATCH") and not self._is_list_view():
                parameters.append(ETAG_HEADER)
        return parameters


class ApiView(JSONErrorsMixin):
    """Mixed into every API view: the bounded JSON parser, the documenting schema, and errors
    as JSON whatever format was asked for."""

    parser_classes = [JSONParser]
    schema = ApiSchema()
