"""The trigger log's hash chain: what an entry's hash covers, and how the chain is checked.

The service that writes entries and the verification (command, selector, API) share this
module, so the two can never disagree on what an entry's hash means.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from risks.models import GENESIS_HASH, TriggerChainHead, TriggerEntry


def _instant(value: datetime.datetime) -> str:
    # One spelling of the instant however the database hands it back.
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def entry_content(entry: TriggerEntry) -> dict[str, object]:
    """Every stored field but the hash itself. The user is named by username and the risk by
    id because those survive backup_register/restore_register (users load by natural key, so
    their ids may change) and a risk's code may be edited."""
    return {
        "sequence": entry.sequence,
        "kind": entry.kind,
        "risk": entry.risk_id,
        "recorded_at": _instant(entry.recorded_at),
        "recorded_by": entry.recorded_by.get_username(),
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


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    message: str
    head_hash: str = GENESIS_HASH
    first_bad_sequence: int | None = None
    first_bad_id: int | None = None


def _broken(entry: TriggerEntry, checked: int, problem: str) -> ChainReport:
    return ChainReport(
        ok=False,
        checked=checked,
        message=f"Trigger log broken at entry #{entry.sequence} (id {entry.pk}): {problem}",
        first_bad_sequence=entry.sequence,
        first_bad_id=entry.pk,
    )


def chain_verify(entries: Iterable[TriggerEntry], head: TriggerChainHead | None) -> ChainReport:
    """Walk `entries` in sequence order and report the first link that does not hold."""
    checked, expected_prev = 0, GENESIS_HASH
    for entry in entries:
        expected_sequence = checked + 1
        if entry.sequence != expected_sequence:
            return _broken(
                entry,
                checked,
                f"expected sequence {expected_sequence}: an entry was removed or reordered.",
            )
        if entry.prev_hash != expected_prev:
            return _broken(entry, checked, "it does not follow the entry before it.")
        if entry_digest(entry) != entry.entry_hash:
            return _broken(entry, checked, "its content does not match its hash.")
        checked, expected_prev = checked + 1, entry.entry_hash

    recorded = (head.sequence, head.entry_hash) if head else (0, GENESIS_HASH)
    if recorded != (checked, expected_prev):
        if recorded[0] > checked:
            bad = checked + 1
            message = f"entries #{bad} to #{recorded[0]} are missing from the end of the log."
        else:
            bad = checked
            message = f"entry #{bad} is not the last entry the chain head records."
        return ChainReport(
            ok=False,
            checked=checked,
            message=f"Trigger log broken: {message}",
            first_bad_sequence=bad,
        )
    return ChainReport(
        ok=True,
        checked=checked,
        message=f"Trigger log intact: {checked} entries checked.",
        head_hash=expected_prev,
    )
