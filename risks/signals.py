"""The register's version for cached answers (risks/selectors.py `register_cached`, the
heatmap, the rating scale): any save or delete in the register or the plan, or a change of
a risk's links, moves it. Plumbing, not business logic: nothing here changes a record.

Writes that send no signal (`QuerySet.update()`, `bulk_create`: the generator, a restore)
call `register_changed()` themselves."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from common import cache as state_cache
from common.cache import REGISTER

__all__ = ["REGISTER", "SCALE", "connect", "register_changed"]

# The rating scale (levels, bands, appetite) has its own version, so a rating changed in the
# register does not make every process read the scale again; a change to the scale moves both.
SCALE = "scale"
SCALE_MODELS = ("ratinglevel", "ratingband", "riskappetite")
APPS = ("risks", "roadmap")


def register_changed(*, scale: bool = True) -> None:
    """Bulk writes that send no signal call this; `scale=False` when they cannot have touched
    the rating scale."""
    state_cache.bump(REGISTER)
    if scale:
        state_cache.bump(SCALE)


def _saved_or_deleted(sender, **kwargs) -> None:
    if sender._meta.app_label in APPS:
        register_changed(scale=sender._meta.model_name in SCALE_MODELS)


def _links_changed(sender, action: str, **kwargs) -> None:
    if sender._meta.app_label in APPS and action in ("post_add", "post_remove", "post_clear"):
        register_changed(scale=False)  # the scale has no links


def connect() -> None:
    post_save.connect(_saved_or_deleted, dispatch_uid="risks.register_version.save")
    post_delete.connect(_saved_or_deleted, dispatch_uid="risks.register_version.delete")
    m2m_changed.connect(_links_changed, dispatch_uid="risks.register_version.links")
