"""Two saves of the same unique values at the same moment: both pass their checks, and the
second meets the database's unique index. Answer it as the checks would have answered had it
come a moment later (a 400 naming the field), never as a server error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from common.versions import StateConflict

RACE_MESSAGE = (
    "Someone else saved a record with the same values at the same moment. "
    "Reload the page or list to see it, then try again if yours still differs."
)


@contextmanager
def unique_or_invalid(instance: models.Model) -> Iterator[None]:
    """Wrap the save of `instance`: a unique clash becomes the ValidationError its checks give.

    The save runs in a savepoint, so the caller's transaction stays usable after the clash. By
    the time the index refuses the row the other writer has committed (the index waits for
    it), so re-running the checks sees its row and names the field.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as clash:
        try:
            instance.validate_unique()
            instance.validate_constraints()
        except ValidationError as error:
            raise error from clash
        raise StateConflict(RACE_MESSAGE, code="unique_race") from clash
