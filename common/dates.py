"""The range of dates the register accepts. A year like 9999 is a typing slip, and the day
after it does not exist in Python, so date arithmetic and the admin's date drill-down would
fail on it; the register's programme runs 2026-2035, with history and horizon to spare."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2200, 12, 31)


@deconstructible
class SaneDateValidator:
    """For date and date-time fields: the day lies between EARLIEST and LATEST."""

    message = f"Give a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
    code = "date_out_of_range"

    def __call__(self, value) -> None:
        day = value.date() if isinstance(value, datetime.datetime) else value
        if isinstance(day, datetime.date) and not EARLIEST <= day <= LATEST:
            raise ValidationError(self.message, code=self.code, params={"value": value})

    def __eq__(self, other) -> bool:
        return isinstance(other, SaneDateValidator)

    def __hash__(self) -> int:
        return hash(type(self))


sane_date = SaneDateValidator()
