"""Answers kept across requests and processes in Django's cache (`django.core.cache.cache`,
whichever backend CACHES names), each tied to the *version* of the state it was computed from.

A version is a random token stored in the cache under a name (e.g. "register"). Every write
to that state calls `bump(name)`: a new token at once (so the writer's own process and
transaction never read an answer older than its write) and again after the commit (so an
answer computed by another request from the state before the commit, and stored under the
token of the first bump, is never read). An answer is stored with the token it was computed
under and read only while that token is current: no answer outlives a write, in any process
that shares the cache. A lost token (evicted, cache cleared) is replaced by a new one, which
discards every answer stored before.

Keys carry the database's name, so test databases, bench databases and the live one never
share an answer through one cache server."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

MISSING = object()

# The register and the plan (every model of `risks` and `roadmap`): risks/signals.py moves it
# on every save, delete or relink there, and the answers read from them are kept under it.
REGISTER = "register"


def active() -> bool:
    """Whether answers are kept at all (settings.STATE_CACHE). Only a cache every process
    shares can carry a version moved by another process: with one process's local memory (the
    default) a write by another gunicorn worker or by a command (`import_register`) would
    leave this process's answers stale, so nothing is kept and every answer is computed."""
    return settings.STATE_CACHE


def _key(*parts: str) -> str:
    return ":".join(("state", connection.settings_dict["NAME"].__str__(), *parts))


def version_key(name: str) -> str:
    return _key(name, "version")


def _new_token() -> str:
    return uuid.uuid4().hex


def version(name: str) -> str:
    """The current token of `name` (created if the cache has none)."""
    key = version_key(name)
    token = cache.get(key)
    if token is None:
        cache.add(key, _new_token(), None)
        token = cache.get(key)
    return token


def _pending() -> dict[str, list[Callable[[], None]]]:
    """Per name, the on-commit hooks of this connection's writes of it not yet committed."""
    hooks = getattr(connection, "_state_pending", None)
    if hooks is None:
        hooks = connection._state_pending = {}
    return hooks


def bump(name: str) -> None:
    """`name`'s state changed: every answer computed from it is stale, now and after commit."""
    key = version_key(name)
    cache.set(key, _new_token(), None)
    if connection.in_atomic_block:
        hooks = _pending().setdefault(name, [])

        def committed() -> None:
            hooks.clear()  # the hooks of one transaction run together, at its commit
            cache.set(key, _new_token(), None)

        hooks.append(committed)
        transaction.on_commit(committed)


def storable(name: str) -> bool:
    """Whether an answer computed now may be kept: not while this connection's transaction
    holds an uncommitted write of `name` (it may yet roll back, and no commit would then move
    the version past an answer read from it). A write is uncommitted while its on-commit hook
    waits in Django's queue; a rollback (of the transaction or of a savepoint) drops the hook
    from that queue, and so ends the wait: a worker whose write rolled back keeps caching."""
    hooks = _pending().get(name)
    if not hooks:
        return True
    waiting = {id(entry[1]) for entry in connection.run_on_commit}
    hooks[:] = [hook for hook in hooks if id(hook) in waiting]
    return not hooks


def answer_key(name: str, *parts: Any) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return _key(name, "answer", digest)


def cached(name: str, parts: tuple, compute: Callable[[], Any], *, timeout: int = 3600) -> Any:
    """`compute()`'s answer for `parts` (anything with a stable repr: filters, day, basis)
    under the current version of `name`; one cache round trip when it is there."""
    if not active():
        return compute()
    vkey, key = version_key(name), answer_key(name, *parts)
    found = cache.get_many([vkey, key])
    token = found.get(vkey)
    stored = found.get(key)
    if token is not None and stored is not None and stored[0] == token:
        return stored[1]
    if token is None:
        token = version(name)
    value = compute()
    if storable(name):
        cache.set(key, (token, value), timeout)
    return value


class ProcessMemo:
    """One value per version in this process's memory (e.g. the rating scale): read the
    version from the shared cache, recompute only when it moved."""

    def __init__(self, name: str, compute: Callable[[], Any]):
        self.name = name
        self.compute = compute
        self._token: str | None = None
        self._value: Any = MISSING

    def get(self) -> Any:
        if not active():
            return self.compute()
        token = version(self.name)
        if token != self._token or self._value is MISSING:
            value = self.compute()
            if storable(self.name):
                self._token, self._value = token, value
            return value
        return self._value
