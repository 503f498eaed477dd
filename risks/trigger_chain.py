"""The trigger log's hash chain and signed heads: what an entry's hash covers, what a head's
signature covers, and how the chain is checked.

The service that writes entries and the verification (command, selector, API) share this
module, so the two can never disagree on what a hash or a signature means. The README's
"For auditors" section spells out both canonical forms byte by byte, and
tools/verify_trigger_log.py re-implements them without Django: change one, change all three.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from common import signing
from risks.models import GENESIS_HASH, TriggerChainHead, TriggerCheckpoint, TriggerEntry


def instant(value: datetime.datetime) -> str:
    """One spelling of an instant however the database hands it back:
    YYYY-MM-DDTHH:MM:SS.ffffff+00:00, always in UTC, always six fraction digits."""
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def entry_content(entry: TriggerEntry) -> dict[str, object]:
    """Every field the entry stores but its hash: the risk by the code and the recorder by the
    username written on the entry when it was recorded, so a later rename changes nothing,
    and every field is in the API, so anyone can recompute the hash."""
    return {
        "sequence": entry.sequence,
        "kind": entry.kind,
        "risk": entry.risk_code,
        "recorded_at": instant(entry.recorded_at),
        "recorded_by": entry.recorded_by_username,
        "reason": entry.reason,
        "evidence": entry.evidence,
        "actions_taken": entry.actions_taken,
        "authorised_by": entry.authorised_by,
        "previous_status": entry.previous_status,
        "prev_hash": entry.prev_hash,
    }


def entry_digest(entry: TriggerEntry) -> str:
    canonical = json.dumps(
        entry_content(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checkpoint_text(
    *, origin: str, sequence: int, entry_hash: str, signed_at: datetime.datetime
) -> str:
    """What a head's signature covers: four lines, each ending in a newline (after the
    checkpoint format of transparency logs: origin, size, root hash, then the time)."""
    return f"{origin}\n{sequence}\n{entry_hash}\n{instant(signed_at)}\n"


def checkpoint_sign(
    *,
    sequence: int,
    entry_hash: str,
    signed_at: datetime.datetime,
    entry: TriggerEntry | None = None,
) -> TriggerCheckpoint:
    """A new (unsaved) signed head: an entry's own (`entry` given) or a review's anchor.
    Raises ImproperlyConfigured when there is no key."""
    origin = settings.TRIGGER_LOG_ORIGIN
    text = checkpoint_text(
        origin=origin, sequence=sequence, entry_hash=entry_hash, signed_at=signed_at
    )
    return TriggerCheckpoint(
        kind=TriggerCheckpoint.Kind.APPEND if entry else TriggerCheckpoint.Kind.ANCHOR,
        entry=entry,
        sequence=sequence,
        entry_hash=entry_hash,
        signed_at=signed_at,
        origin=origin,
        key_id=signing.key_id(),
        signature=signing.sign(text.encode("utf-8")),
    )


def checkpoint_valid(checkpoint: TriggerCheckpoint, key: Ed25519PublicKey) -> bool:
    text = checkpoint_text(
        origin=checkpoint.origin,
        sequence=checkpoint.sequence,
        entry_hash=checkpoint.entry_hash,
        signed_at=checkpoint.signed_at,
    )
    return signing.signature_valid(text.encode("utf-8"), checkpoint.signature, key)


@dataclass(frozen=True)
class Anchor:
    """A finalised board review and the signed head it holds (None: it holds none)."""

    quarter: str
    checkpoint: TriggerCheckpoint | None


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    message: str
    head_hash: str = GENESIS_HASH
    first_bad_sequence: int | None = None
    first_bad_id: int | None = None
    key_id: str = ""
    reviews_checked: int = 0


@dataclass
class _Walk:
    checked: int = 0
    prev_hash: str = GENESIS_HASH
    prev_time: datetime.datetime | None = None
    hashes: list[str] = field(default_factory=list)


def _broken(entry: TriggerEntry, walk: _Walk, problem: str, key_id: str) -> ChainReport:
    return ChainReport(
        ok=False,
        checked=walk.checked,
        message=f"Trigger log broken at entry #{entry.sequence} (id {entry.pk}): {problem}",
        first_bad_sequence=entry.sequence,
        first_bad_id=entry.pk,
        key_id=key_id,
    )


def _checkpoint_of(entry: TriggerEntry) -> TriggerCheckpoint | None:
    try:
        return entry.checkpoint
    except TriggerCheckpoint.DoesNotExist:
        return None


def _entry_problem(
    entry: TriggerEntry,
    walk: _Walk,
    *,
    key: Ed25519PublicKey,
    recorders: set[int],
    risk_had_code: Callable[[int, str], bool],
) -> str | None:
    expected_sequence = walk.checked + 1
    if entry.sequence != expected_sequence:
        return f"expected sequence {expected_sequence}: an entry was removed or reordered."
    checkpoint = _checkpoint_of(entry)
    if entry.prev_hash != walk.prev_hash:
        return "it does not follow the entry before it."
    if entry_digest(entry) != entry.entry_hash:
        return "its content does not match its hash."
    if walk.prev_time is not None and entry.recorded_at < walk.prev_time:
        return "it is dated before the entry before it."
    if checkpoint is None:
        return "its head was never signed."
    if (checkpoint.sequence, checkpoint.entry_hash, checkpoint.signed_at) != (
        entry.sequence,
        entry.entry_hash,
        entry.recorded_at,
    ):
        return "its signed head names another entry."
    if not checkpoint_valid(checkpoint, key):
        return (
            f"the signature of its head does not verify with the public key "
            f"{signing.key_id(key)} (it names key {checkpoint.key_id})."
        )
    if entry.recorded_by_id not in recorders:
        return (
            f"it is recorded by {entry.recorded_by_username}, who does not hold the "
            "permission to record entries (risks.add_triggerentry)."
        )
    if not risk_had_code(entry.risk_id, entry.risk_code):
        return f"it is linked to a risk that was never called {entry.risk_code}."
    return None


def _anchor_problem(
    anchor: Anchor, walk: _Walk, key: Ed25519PublicKey
) -> tuple[int | None, str] | None:
    checkpoint = anchor.checkpoint
    review = f"the {anchor.quarter} board review"
    if checkpoint is None:
        return None, f"{review} holds no signed head of the log."
    if checkpoint.kind != TriggerCheckpoint.Kind.ANCHOR or not checkpoint_valid(checkpoint, key):
        return checkpoint.sequence, f"the signature of the head {review} holds does not verify."
    if checkpoint.sequence > walk.checked:
        return walk.checked + 1, (
            f"{review} holds head #{checkpoint.sequence}, but the log ends at "
            f"#{walk.checked}: it was cut back after the review."
        )
    recorded = walk.hashes[checkpoint.sequence - 1] if checkpoint.sequence else GENESIS_HASH
    if recorded != checkpoint.entry_hash:
        return checkpoint.sequence, (
            f"{review} holds head #{checkpoint.sequence} with hash {checkpoint.entry_hash}, "
            f"but the log's entry #{checkpoint.sequence} has {recorded}: it was rewritten "
            "after the review."
        )
    return None


def chain_verify(
    entries: Iterable[TriggerEntry],
    head: TriggerChainHead | None,
    *,
    key: Ed25519PublicKey,
    recorders: set[int],
    risk_had_code: Callable[[int, str], bool],
    anchors: Iterable[Anchor] = (),
) -> ChainReport:
    """Walk `entries` (with their `checkpoint`) in sequence order and report the first thing
    that does not hold: the sequence, the link, the hash, the time, the signed head, the
    recorder's permission, the risk; then the head row; then every review's anchor."""
    key_id = signing.key_id(key)
    walk = _Walk()
    for entry in entries:
        problem = _entry_problem(
            entry,
            walk,
            key=key,
            recorders=recorders,
            risk_had_code=risk_had_code,
        )
        if problem:
            return _broken(entry, walk, problem, key_id)
        walk.checked += 1
        walk.prev_hash, walk.prev_time = entry.entry_hash, entry.recorded_at
        walk.hashes.append(entry.entry_hash)

    recorded = (head.sequence, head.entry_hash) if head else (0, GENESIS_HASH)
    if recorded != (walk.checked, walk.prev_hash):
        if recorded[0] > walk.checked:
            bad = walk.checked + 1
            message = f"entries #{bad} to #{recorded[0]} are missing from the end of the log."
        else:
            bad = walk.checked
            message = f"entry #{bad} is not the last entry the chain head records."
        return ChainReport(
            ok=False,
            checked=walk.checked,
            message=f"Trigger log broken: {message}",
            first_bad_sequence=bad,
            key_id=key_id,
        )

    reviews = 0
    for anchor in anchors:
        found = _anchor_problem(anchor, walk, key)
        if found:
            bad, message = found
            return ChainReport(
                ok=False,
                checked=walk.checked,
                message=f"Trigger log broken: {message}",
                first_bad_sequence=bad,
                key_id=key_id,
                reviews_checked=reviews,
            )
        reviews += 1
    return ChainReport(
        ok=True,
        checked=walk.checked,
        message=f"Trigger log intact: {walk.checked} entries checked.",
        head_hash=walk.prev_hash,
        key_id=key_id,
        reviews_checked=reviews,
    )
