"""make backup / make restore: the backup is encrypted to BACKUP_RECIPIENT (age), 0600 in a
0700 folder, holds no readable username, hash or token, and restored into an empty database
with the private key gives the same register and an intact trigger log. A wrong key or a
changed byte fails and changes nothing. Runs the real commands on real, separate databases."""

from __future__ import annotations

import gzip
import json
import os
import re
import stat
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

from common import backup_crypto

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ACTIVITY = """
from django.contrib.auth.models import Group, User
from risks.models import Risk
from risks import services
from roadmap.models import Metric
from roadmap.services import metric_reading_record
staff = User.objects.create_user("sam", password="x-long-password-1", email="sam@agency.example")
staff.groups.add(Group.objects.get(name="Staff"))  # only Staff record trigger log entries
r3 = Risk.objects.get(code="R3")
services.risk_assess(risk=r3, likelihood=4, impact=5, rationale="Violence up.", user=staff)
services.contingency_invoke(risk=r3, user=staff, reason="Homicides up 20%.", evidence="INEGI")
services.contingency_update(risk=r3, user=staff, reason="Security aid released.")
services.contingency_stand_down(risk=r3, user=staff, reason="Back under threshold.")
services.risk_update(risk=Risk.objects.get(code="R2"), user=staff, title="Renamed R2")
from accounts.services import token_create
print("TOKEN", token_create(user=staff, name="nightly pull")[1])
metric_reading_record(metric=Metric.objects.first(), observed_on="2026-06-30", value=21,
                      source="Annual report", user=staff)
"""


def _urls():
    name = f"restore_{uuid.uuid4().hex[:8]}"
    if connection.vendor == "postgresql":
        base = "postgres://postgres@127.0.0.1:5432/"
        return base + name + "_a", base + name + "_b", name
    return f"sqlite:////tmp/{name}_a.sqlite3", f"sqlite:////tmp/{name}_b.sqlite3", name


def _run(
    url: str, *args: str, recipient: str = "", without: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", *without):
        env.pop(name, None)
    env["BACKUP_RECIPIENT"] = recipient
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _manage(url: str, *args: str, recipient: str = "") -> str:
    result = _run(url, *args, recipient=recipient)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


WHOLE_SECOND = re.compile(r'(T\d\d:\d\d:\d\d)Z"')


def _dump(url: str) -> dict[str, list]:
    out = _manage(
        url,
        "dumpdata",
        "-e",
        "contenttypes",
        "-e",
        "auth.permission",
        "-e",
        "sessions",
        "-e",
        "axes",
        "--natural-foreign",
        "--natural-primary",
    )
    # Django's JSON keeps times to the millisecond: a time whose microseconds were under 1,000
    # is written "…:29.000Z" before a restore and "…:29Z" after it (the same instant).
    out = WHOLE_SECOND.sub(r'\1.000Z"', out)
    by_model: dict[str, list] = {}
    for row in json.loads(out):
        by_model.setdefault(row["model"], []).append(row)
    return by_model


@pytest.fixture
def databases(tmp_path):
    source, target, name = _urls()
    if connection.vendor == "postgresql":
        _psql(f"CREATE DATABASE {name}_a")
        _psql(f"CREATE DATABASE {name}_b")
    yield source, target
    if connection.vendor == "postgresql":
        _psql(f"DROP DATABASE IF EXISTS {name}_a")
        _psql(f"DROP DATABASE IF EXISTS {name}_b")
    else:
        for url in (source, target):
            path = url.removeprefix("sqlite:///")
            if os.path.exists(path):
                os.remove(path)


@pytest.fixture
def key(tmp_path):
    """An age key pair, as `create_backup_key` makes one: the private key file and the
    public key that BACKUP_RECIPIENT names."""
    path = tmp_path / "keys" / "backup.agekey"
    return path, str(backup_crypto.identity_create(path))


def _seed_backup(source: str, tmp_path, public: str):
    """The seed loaded into `source` and backed up to `public`: the backup file."""
    _manage(source, "migrate", "-v0")
    _manage(source, "loaddata", "roadmap", "-v0")
    backup = tmp_path / "register.json.gz.age"
    _manage(source, "backup_register", "--output", str(backup), recipient=public)
    return backup


def _register(source: str) -> str:
    """A register with activity and a live API token; returns the token's key."""
    _manage(source, "migrate", "-v0")
    _manage(source, "seed_demo", "-v0")  # as `make demo` loads it, with baselines
    out = _manage(source, "shell", "-c", ACTIVITY)
    return out.split("TOKEN ")[1].split()[0]


def test_backup_restored_into_an_empty_database_is_the_same_register(databases, tmp_path, key):
    source, target = databases
    private, public = key
    token = _register(source)
    backup = tmp_path / "backups" / "register.json.gz.age"
    _manage(source, "backup_register", "--output", str(backup), recipient=public)

    _manage(target, "migrate", "-v0")
    restored = _manage(target, "restore_register", str(backup), "--key", str(private))

    assert "Trigger log intact: 3 entries checked." in restored
    before, after = _dump(source), _dump(target)
    assert before.pop("accounts.apitoken")  # the source had a token; the backup holds none
    assert "accounts.apitoken" not in after
    assert before.keys() == after.keys()
    for model, rows in before.items():
        assert after[model] == rows, model
    assert len(after["risks.risk"]) == 5
    assert after["risks.historicalrisk"]  # the change history came back too
    sam = next(u for u in after["auth.user"] if u["fields"]["username"] == "sam")
    assert sam["fields"]["password"].startswith("pbkdf2_sha256$")  # hashes stay, encrypted
    assert "Trigger log intact: 3 entries checked." in _manage(target, "verify_trigger_log")

    plaintext = gzip.decompress(
        backup_crypto.decrypt(backup.read_bytes(), backup_crypto.identity_read(private))
    ).decode()
    assert token not in plaintext and token[:8] not in plaintext


def test_the_backup_is_private_and_unreadable_without_the_key(databases, tmp_path, key):
    source, _ = databases
    _, public = key
    _register(source)
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o755)  # an old, open folder is tightened
    backup = folder / "register.json.gz.age"
    _manage(source, "backup_register", "--output", str(backup), recipient=public)

    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert list(folder.iterdir()) == [backup]  # no plaintext copy beside it
    sealed = backup.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1\n")
    hashes = [u["fields"]["password"] for u in _dump(source)["auth.user"]]
    for secret in [b"sam@agency.example", b"pbkdf2_sha256", b'"username"', b"Violence up."]:
        assert secret not in sealed
    for password_hash in hashes:
        assert password_hash.encode() not in sealed
    with pytest.raises(OSError):
        gzip.decompress(sealed)  # not even a compressed plaintext


def test_backup_refuses_without_a_recipient_and_writes_nothing(databases, tmp_path):
    source, _ = databases
    _manage(source, "migrate", "-v0")
    backup = tmp_path / "backups" / "register.json.gz.age"
    result = _run(source, "backup_register", "--output", str(backup))
    assert result.returncode != 0
    assert "BACKUP_RECIPIENT is not set" in result.stderr
    assert not backup.exists()


def test_a_wrong_key_or_a_changed_byte_fails_and_changes_nothing(databases, tmp_path, key):
    source, target = databases
    _, public = key
    backup = _seed_backup(source, tmp_path, public)
    _manage(target, "migrate", "-v0")
    before = _dump(target)

    other = tmp_path / "other.agekey"
    backup_crypto.identity_create(other)
    wrong = _run(target, "restore_register", str(backup), "--key", str(other))
    assert wrong.returncode != 0
    assert "does not decrypt with this key" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    sealed = bytearray(backup.read_bytes())
    sealed[len(sealed) // 2] ^= 0x01
    changed = tmp_path / "changed.json.gz.age"
    changed.write_bytes(bytes(sealed))
    tampered = _run(target, "restore_register", str(changed), "--key", str(key[0]))
    assert tampered.returncode != 0
    assert "does not decrypt with this key" in tampered.stderr

    assert _dump(target) == before


def test_restore_refuses_a_database_that_is_not_empty(databases, tmp_path, key):
    source, _ = databases
    private, public = key
    backup = _seed_backup(source, tmp_path, public)
    result = _run(source, "restore_register", str(backup), "--key", str(private))
    assert result.returncode != 0
    assert "empty" in result.stderr


def test_restore_without_the_signing_key_stops_before_loading(databases, tmp_path, key):
    source, target = databases
    private, public = key
    backup = _seed_backup(source, tmp_path, public)
    _manage(target, "migrate", "-v0")
    before = _dump(target)
    result = _run(
        target,
        "restore_register",
        str(backup),
        "--key",
        str(private),
        without=("TRIGGER_LOG_SIGNING_KEY_FILE", "DJANGO_DEBUG"),
    )
    assert result.returncode != 0
    assert "TRIGGER_LOG_SIGNING_KEY_FILE" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert _dump(target) == before
