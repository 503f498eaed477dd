"""The trigger log's signing key: created by a command, never overwritten, checked."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from common import signing


def test_create_trigger_log_key_writes_a_private_key_and_prints_its_public_key(tmp_path):
    path = tmp_path / "keys" / "signing.pem"
    out = StringIO()
    call_command("create_trigger_log_key", str(path), stdout=out)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert "-----BEGIN PUBLIC KEY-----" in out.getvalue()
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("create_trigger_log_key", str(path), stdout=StringIO())


def test_the_deploy_check_names_an_unreadable_key(settings, tmp_path):
    settings.TRIGGER_LOG_SIGNING_KEY_FILE = str(tmp_path / "missing.pem")
    assert [m.id for m in signing.signing_key_check()] == ["common.E002"]
    (tmp_path / "not-a-key.pem").write_text("hello")
    settings.TRIGGER_LOG_SIGNING_KEY_FILE = str(tmp_path / "not-a-key.pem")
    assert [m.id for m in signing.signing_key_check()] == ["common.E002"]


def test_the_deploy_check_passes_with_debug_and_no_key(settings, tmp_path):
    settings.TRIGGER_LOG_SIGNING_KEY_FILE = ""
    settings.DEBUG = True
    settings.TRIGGER_LOG_DEV_KEY_FILE = tmp_path / "dev.pem"
    assert signing.signing_key_check() == []
    settings.DEBUG = False
    assert [m.id for m in signing.signing_key_check()] == ["common.E001"]


def test_signatures_verify_only_for_the_signed_text():
    signature = signing.sign(b"origin\n1\nabc\n")
    assert signing.signature_valid(b"origin\n1\nabc\n", signature)
    assert not signing.signature_valid(b"origin\n2\nabc\n", signature)
    assert not signing.signature_valid(b"origin\n1\nabc\n", "not base64!")
