"""Encrypted backups: age (X25519, ChaCha20-Poly1305) through pyrage.

One home for how a backup is sealed and opened: the recipients (BACKUP_RECIPIENT), the demo
key (an explicit opt-out for local use), writing a file only its owner can read in a folder
only its owner can enter, and decrypting with a private key. The plaintext only ever exists
in memory: nothing unencrypted is written to disk, not even for a moment.

age authenticates every 64 KiB chunk and the header: a wrong key or a changed byte fails
the whole decryption, before a restore touches the database.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyrage
from pyrage import x25519


class BackupKeyError(Exception):
    """A recipient or a key that cannot be used; the message says which and why."""


class BackupDecryptError(Exception):
    """The file does not open with this key: wrong key, not an age file, or changed."""


def recipients_parse(values: list[str]) -> list[x25519.Recipient]:
    """age public keys (`age1...`), one or more (each can decrypt on its own)."""
    recipients = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            recipients.append(x25519.Recipient.from_str(value))
        except pyrage.RecipientError as error:
            raise BackupKeyError(
                f"BACKUP_RECIPIENT: {value[:12]}... is not an age public key (age1...)."
            ) from error
    return recipients


def identity_read(path: str | os.PathLike) -> x25519.Identity:
    """An age identity file as `age-keygen` or `create_backup_key` writes it: comment lines
    start with #, the key line with AGE-SECRET-KEY-."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise BackupKeyError(f"Cannot read the key file {path}: {error}") from error
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("AGE-SECRET-KEY-"):
            try:
                return x25519.Identity.from_str(line)
            except pyrage.IdentityError as error:
                raise BackupKeyError(f"{path} holds a damaged age secret key.") from error
    raise BackupKeyError(f"{path} holds no age secret key (a line AGE-SECRET-KEY-...).")


def identity_create(path: str | os.PathLike) -> x25519.Recipient:
    """Write a new age identity to PATH (0600, its folder 0700, never overwritten) and
    return its public key, the recipient to configure."""
    path = Path(path)
    private_folder(path.parent)
    identity = x25519.Identity.generate()
    public = identity.to_public()
    text = f"# public key: {public}\n{identity}\n"
    private_file_write(path, text.encode("ascii"))
    return public


def encrypt(data: bytes, recipients: list[x25519.Recipient]) -> bytes:
    if not recipients:
        raise BackupKeyError("No recipient: set BACKUP_RECIPIENT to an age public key.")
    return pyrage.encrypt(data, recipients)


def decrypt(data: bytes, identity: x25519.Identity) -> bytes:
    try:
        return pyrage.decrypt(data, [identity])
    except pyrage.DecryptError as error:
        raise BackupDecryptError(
            "The backup does not decrypt with this key: the key is wrong, or the file is "
            "not an age-encrypted backup or was changed."
        ) from error


def private_folder(path: str | os.PathLike) -> Path:
    """Create PATH as 0700, or tighten an existing folder to 0700."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file_write(path: str | os.PathLike, data: bytes) -> None:
    """Create PATH readable by its owner only and write DATA. O_EXCL: an existing file is
    never overwritten or followed through a symlink. A failed write leaves no file."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o600)  # the mode above, whatever the umask
            file.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
