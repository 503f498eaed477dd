#!/usr/bin/env python3
"""Verify an export of the risk register's trigger log without trusting the server.

    python tools/verify_trigger_log.py ENTRIES.json --public-key KEY.pem [--anchor SEQ:HASH]

ENTRIES.json is a JSON array of the entry objects of /api/v1/triggers/ (every page's
`results`, in any order). KEY.pem is the log's Ed25519 public key, obtained through a channel
you trust (GET /api/v1/triggers/public-key/ serves it too). Every hash, link and signature is
recomputed here; exit 0 when all hold, 1 naming the first bad entry, 2 when the input cannot be
read. `--anchor SEQ:HASH` (repeatable) also checks that the log still holds a head kept
elsewhere: a board review's anchor, or the head in a notification email.

Python's standard library only, plus `cryptography` for Ed25519. The canonical forms are
documented in the README ("For auditors") and must stay identical to risks/trigger_chain.py.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS_HASH = "0" * 64
HASHED = (
    "sequence",
    "kind",
    "risk",
    "recorded_at",
    "recorded_by",
    "reason",
    "evidence",
    "actions_taken",
    "authorised_by",
    "previous_status",
    "prev_hash",
)
SIGNED = ("origin", "sequence", "entry_hash", "signed_at", "key_id", "signature")


class Bad(Exception):
    """The first thing that does not hold."""


def instant(value: str) -> str:
    """The canonical spelling of an ISO 8601 instant: UTC, six fraction digits, +00:00."""
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def entry_digest(entry: dict) -> str:
    content = {name: entry[name] for name in HASHED}
    content["recorded_at"] = instant(entry["recorded_at"])
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checkpoint_text(origin: str, sequence: int, entry_hash: str, signed_at: str) -> str:
    return f"{origin}\n{sequence}\n{entry_hash}\n{instant(signed_at)}\n"


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def _checked_entry(entry: object, position: int) -> dict:
    if not isinstance(entry, dict):
        raise Bad(f"item {position} of the export is not an entry object.")
    missing = [name for name in (*HASHED, "entry_hash", "checkpoint") if name not in entry]
    if missing:
        raise Bad(f"item {position} of the export lacks {', '.join(missing)}.")
    if not isinstance(entry["sequence"], int) or isinstance(entry["sequence"], bool):
        raise Bad(f"item {position} of the export has no integer sequence.")
    return entry


def _check_signed_head(entry: dict, key: Ed25519PublicKey, origin: str | None) -> str:
    checkpoint = entry["checkpoint"]
    if not isinstance(checkpoint, dict) or any(name not in checkpoint for name in SIGNED):
        raise Bad("its head was never signed (no checkpoint).")
    signed = (checkpoint["sequence"], checkpoint["entry_hash"])
    if signed != (entry["sequence"], entry["entry_hash"]):
        raise Bad("its signed head names another entry.")
    if instant(checkpoint["signed_at"]) != instant(entry["recorded_at"]):
        raise Bad("its head was signed at another time than the entry was recorded.")
    if origin is not None and checkpoint["origin"] != origin:
        raise Bad(f"its head is signed for another log ({checkpoint['origin']!r}, not {origin!r}).")
    text = checkpoint_text(
        checkpoint["origin"], entry["sequence"], entry["entry_hash"], checkpoint["signed_at"]
    )
    try:
        key.verify(base64.b64decode(checkpoint["signature"], validate=True), text.encode("utf-8"))
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        raise Bad(
            f"the signature of its head does not verify with public key {key_id(key)} "
            f"(the head names key {checkpoint['key_id']})."
        ) from None
    return checkpoint["origin"]


def verify(
    items: list, key: Ed25519PublicKey, *, origin: str | None = None, anchors=()
) -> tuple[int, str]:
    """Return (entries checked, head hash), or raise Bad naming the first bad entry."""
    entries = sorted(
        (_checked_entry(item, position) for position, item in enumerate(items)),
        key=lambda entry: entry["sequence"],
    )
    previous_hash, previous_time, hashes = GENESIS_HASH, None, {0: GENESIS_HASH}
    for expected, entry in enumerate(entries, start=1):
        sequence = entry["sequence"]
        try:
            if sequence != expected:
                raise Bad(f"expected sequence {expected}: an entry is missing or repeated.")
            if entry["prev_hash"] != previous_hash:
                raise Bad("it does not follow the entry before it.")
            if entry_digest(entry) != entry["entry_hash"]:
                raise Bad("its content does not match its hash.")
            recorded = instant(entry["recorded_at"])
            if previous_time is not None and recorded < previous_time:
                raise Bad("it is dated before the entry before it.")
            origin = _check_signed_head(entry, key, origin)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise Bad(f"entry #{sequence} is malformed: {error!r}") from None
        except Bad as bad:
            raise Bad(f"entry #{sequence}: {bad}") from None
        previous_hash, previous_time = entry["entry_hash"], recorded
        hashes[sequence] = previous_hash
    for sequence, entry_hash in anchors:
        if sequence > len(entries):
            raise Bad(
                f"entry #{len(entries) + 1}: the head #{sequence} kept elsewhere is past the end "
                f"of the log (#{len(entries)}): the log was cut back."
            )
        if hashes[sequence] != entry_hash:
            raise Bad(
                f"entry #{sequence}: its hash {hashes[sequence]} is not the {entry_hash} kept "
                "elsewhere: the log was rewritten."
            )
    return len(entries), previous_hash


def _anchor(value: str) -> tuple[int, str]:
    sequence, _, entry_hash = value.partition(":")
    if not sequence.isdigit() or len(entry_hash) != 64:
        raise argparse.ArgumentTypeError("give SEQUENCE:HASH, e.g. 12:3f5a...")
    return int(sequence), entry_hash.lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", type=Path, help="JSON array of /api/v1/triggers/ entries")
    parser.add_argument("--public-key", required=True, type=Path, help="Ed25519 public key, PEM")
    parser.add_argument("--origin", help="require every signed head to name this log")
    parser.add_argument(
        "--anchor",
        action="append",
        type=_anchor,
        default=[],
        metavar="SEQ:HASH",
        help="a head kept elsewhere (a board review's anchor, a notification email)",
    )
    args = parser.parse_args(argv)
    try:
        key = load_public_key(args.public_key)
        items = json.loads(args.entries.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as error:
        print(f"Cannot read the input: {error}", file=sys.stderr)
        return 2
    if isinstance(items, dict) and isinstance(items.get("results"), list):
        items = items["results"]  # one page as the API answers it
    if not isinstance(items, list):
        print("The export is not a JSON array of entries.", file=sys.stderr)
        return 2
    try:
        count, head = verify(items, key, origin=args.origin, anchors=args.anchor)
    except Bad as bad:
        print(f"Trigger log broken at {bad}")
        return 1
    print(f"Trigger log intact: {count} entries checked.")
    print(f"Head hash: {head} (entry #{count}); signatures checked with key {key_id(key)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
