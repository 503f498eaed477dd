"""Conflicts between an edit and the record's current state, shared by both apps' services.

Every editable record carries a `version` that each save raises. A service that changes one
is given the version the editor started from; if the record moved on meanwhile, the edit is
refused with what changed, who changed it and when, and nothing is written.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


class StateConflict(ValidationError):
    """Valid input that the record's current state does not allow (the API answers 409),
    e.g. invoking an active contingency or dismissing a resolved breach."""


class StaleEdit(StateConflict):
    """The record changed after the editor loaded it (the API answers 409 or 412)."""

    def __init__(self, message: str, *, current_version: int, changes: list[dict]):
        super().__init__(message, code="stale")
        self.current_version = current_version
        self.changes = changes


def bump_version(instance: models.Model) -> None:
    """Called from save(): every write of a versioned record raises its version."""
    if instance.pk is not None and not instance._state.adding:
        instance.version = (instance.version or 0) + 1


def version_check(
    instance: models.Model, expected_version: int | None, *, locked: bool = False
) -> None:
    """Refuse the edit when the stored version is not the one the editor started from.

    Takes a row lock first (PostgreSQL), so two saves of the same version cannot both pass.
    `locked`: the caller has just read `instance` under that lock, so its version is the
    stored one and a match needs no query. `expected_version=None` means the caller does
    not track versions (internal code only).
    """
    if expected_version is None or instance.pk is None:
        return
    if locked and instance.version == int(expected_version):
        return
    model = type(instance)
    current = model.objects.select_for_update().only("version").get(pk=instance.pk)
    if current.version == int(expected_version):
        instance.version = current.version
        return
    changes, who, when = _changes_since(instance, int(expected_version))
    summary = "; ".join(f"{c['field']}: {c['old']!r} → {c['new']!r}" for c in changes)
    raise StaleEdit(
        f"This {model._meta.verbose_name} was changed by {who or 'someone else'}"
        f"{f' at {when:%Y-%m-%d %H:%M} UTC' if when else ''} while you were editing "
        f"(version {expected_version} → {current.version})"
        f"{f': {summary}' if summary else ''}. Reload it and apply your change again.",
        current_version=current.version,
        changes=changes,
    )


def _changes_since(instance: models.Model, version: int):
    history = getattr(type(instance), "history", None)
    if history is None:
        return [], None, None
    records = history.filter(**{type(instance)._meta.pk.attname: instance.pk})
    old = records.filter(version=version).order_by("history_date").last()
    new = records.order_by("history_date", "history_id").last()
    if old is None or new is None:
        return [], getattr(new, "history_user", None), getattr(new, "history_date", None)
    delta = new.diff_against(old, excluded_fields=["version"])
    changes = [{"field": c.field, "old": c.old, "new": c.new} for c in delta.changes]
    return changes, new.history_user, new.history_date
