"""The history timeline's cursor: a keyset over (history_date, model, history_id)."""

from __future__ import annotations

import base64
import binascii
import datetime
import json

from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from risks.history import TRACKED, Key, merged_keys, records_for


class TimelinePagination(pagination.CursorPagination):
    """Pages of the merged history, newest first unless `ordering=history_date`.

    The cursor holds the last (or, going back, the first) row's key, and the next page is
    read from the tables with `key > cursor`. Rows that arrive meanwhile land before the
    first page or after the last, never inside a walk: no row is skipped or repeated.
    A malformed cursor answers 404, like DRF's own cursor."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-history_date"

    def paginate_branches(self, branches, request, *, ascending: bool) -> list:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        key, backwards = self._decode(request.query_params.get(self.cursor_query_param))
        keys = merged_keys(
            branches, after=key, ascending=ascending != backwards, limit=self.page_size + 1
        )
        more = len(keys) > self.page_size
        keys = keys[: self.page_size]
        if backwards:
            keys.reverse()
        self.first_key = keys[0] if keys else None
        self.last_key = keys[-1] if keys else None
        came_from_elsewhere = key is not None and bool(keys)
        self.has_next = came_from_elsewhere if backwards else more
        self.has_previous = more if backwards else came_from_elsewhere
        return records_for(keys)

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return replace_query_param(
            self.base_url, self.cursor_query_param, self._encode(self.last_key, backwards=False)
        )

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        return replace_query_param(
            self.base_url, self.cursor_query_param, self._encode(self.first_key, backwards=True)
        )

    def get_paginated_response(self, data):
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    @staticmethod
    def _encode(key: Key, *, backwards: bool) -> str:
        at, ordinal, history_id = key
        raw = json.dumps(
            [at.isoformat(), ordinal, history_id, int(backwards)], separators=(",", ":")
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, cursor: str | None) -> tuple[Key | None, bool]:
        if not cursor:
            return None, False
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            at, ordinal, history_id, backwards = json.loads(raw)
            at = datetime.datetime.fromisoformat(at)
            valid = (
                at.tzinfo is not None
                and all(type(n) is int for n in (ordinal, history_id, backwards))
                and 0 <= ordinal < len(TRACKED)
                and 0 <= history_id < 2**63
            )
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            valid = False
        if not valid:
            raise NotFound(self.invalid_cursor_message)
        return (at, ordinal, history_id), bool(backwards)
