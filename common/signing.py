"""The trigger log's signing key: Ed25519, held in a file outside the database.

One home for the key: where it comes from (TRIGGER_LOG_SIGNING_KEY_FILE, or a development
key created on first use when DEBUG is on), signing, verifying, the public key as PEM and its
key id, and the system check that refuses to run without a key when DEBUG is off.

Whoever can write to the database but cannot read this file cannot make a signature that
verifies, so they cannot extend or rewrite the log unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

KEY_SETTING = "TRIGGER_LOG_SIGNING_KEY_FILE"


def create_key_file(path: str | os.PathLike) -> Ed25519PrivateKey:
    """Write a new private key as unencrypted PKCS#8 PEM, readable by its owner only. An
    existing file is never overwritten: losing the key would orphan every signature."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two processes racing to create the development key cannot both write one.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return key


def _read_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise ImproperlyConfigured(f"{KEY_SETTING}: cannot read {path}: {error}") from error
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"{KEY_SETTING}: {path} is not an unencrypted PEM private key."
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{KEY_SETTING}: {path} is not an Ed25519 key.")
    return key


def key_path() -> Path | None:
    """The configured key file; with DEBUG on and nothing configured, the development key."""
    configured = getattr(settings, KEY_SETTING, "")
    if configured:
        return Path(configured)
    if settings.DEBUG:
        return Path(settings.TRIGGER_LOG_DEV_KEY_FILE)
    return None


@cache
def _load(path: Path | None, create: bool) -> Ed25519PrivateKey:
    if path is None:
        raise ImproperlyConfigured(
            f"Set {KEY_SETTING} to an Ed25519 private key (PEM): the trigger log is signed "
            "with it. Create one with `.venv/bin/python manage.py create_trigger_log_key PATH`."
        )
    if create and not path.exists():
        try:
            return create_key_file(path)
        except FileExistsError:
            pass  # another process created it first
    return _read_key(path)


def private_key() -> Ed25519PrivateKey:
    path = key_path()
    development = path is not None and not getattr(settings, KEY_SETTING, "")
    return _load(path, development)


def forget_loaded_key() -> None:
    """For tests that point the setting at another key."""
    _load.cache_clear()


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    key = key or public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(key: Ed25519PublicKey | None = None) -> str:
    """The first 8 bytes of SHA-256 over the raw 32-byte public key, in hex: names the key
    that made a signature, so a rotated key is told apart from a forged signature."""
    raw = (key or public_key()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(message: bytes) -> str:
    """The Ed25519 signature of `message`, base64 (standard alphabet, padded)."""
    return base64.b64encode(private_key().sign(message)).decode("ascii")


def signature_valid(message: bytes, signature: str, key: Ed25519PublicKey | None = None) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        (key or public_key()).verify(raw, message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@checks.register(checks.Tags.security, deploy=True)
def signing_key_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`check --deploy` flags a missing or unreadable key. The app itself refuses to start
    without one: config/wsgi.py (gunicorn, runserver) loads the key before serving."""
    path = key_path()
    if path is None:
        return [
            checks.Error(
                f"{KEY_SETTING} is not set, and DEBUG is off: the trigger log cannot be signed.",
                hint="Create a key with `.venv/bin/python manage.py create_trigger_log_key PATH` "
                f"and set {KEY_SETTING}=PATH. Keep the file outside the database and its backups.",
                id="common.E001",
            )
        ]
    if not getattr(settings, KEY_SETTING, "") and not path.exists():
        return []  # the development key is created on first use
    try:
        _read_key(path)
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="common.E002")]
    return []
