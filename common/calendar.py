"""The programme's calendar: one place for the dates every part of the register counts in."""

from __future__ import annotations

import datetime

from django.utils import timezone

# Year 1 of the roadmap is 2026: a metric's "year 3" target falls due at the end of 2028.
PROGRAMME_START = datetime.date(2026, 1, 1)
PROGRAMME_MONTHS = 120


def programme_year(on: datetime.date) -> int:
    return on.year - PROGRAMME_START.year + 1


def target_calendar_year(target_year: int) -> int:
    return PROGRAMME_START.year + target_year - 1


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last instant of `day` in the site's time zone (UTC): what `as_of=day` means."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))
