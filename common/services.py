"""The one way a record is updated (after HackSoft's `model_update`): the version the editor
started from is checked under lock, only named fields are set, the model validates itself,
the change history names the editor, and many-to-many links are set after the save."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models

from common.history import saved_by
from common.integrity import unique_or_invalid
from common.versions import version_check


def model_update(
    *,
    instance: models.Model,
    data: dict,
    user,
    expected_version: int | None = None,
    m2m: Iterable[str] = (),
    check: Callable[[models.Model], None] | None = None,
    reason: str,
) -> models.Model:
    """Apply `data` to `instance` and save it; refuse a stale version (StaleEdit). Names in
    `m2m` are links, set after the save. `check` runs after the model's own validation, for
    rules that span rows. Call inside the caller's transaction."""
    version_check(instance, expected_version)
    links = {name: data.pop(name) for name in list(data) if name in set(m2m)}
    for name, value in data.items():
        if not hasattr(instance, name):
            raise AttributeError(f"{type(instance).__name__} has no field {name!r}")
        setattr(instance, name, value)
    # The history names the editor outside a request too, and why: `reason` is the service.
    saved_by(instance, user=user, reason=reason)
    instance.full_clean()
    if check is not None:
        check(instance)
    with unique_or_invalid(instance):
        instance.save()
    for name, values in links.items():
        getattr(instance, name).set(values)
    return instance
