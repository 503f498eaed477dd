"""tools/verify_trigger_log.py checks an export taken through the API, with nothing but the
export and the public key: the auditor's way to verify without trusting the server."""

from __future__ import annotations

import ast
import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from common.signing import public_key_pem
from risks import services
from tests.factories import RiskFactory, TriggerEntryFactory

pytestmark = pytest.mark.django_db

TOOL = Path(settings.BASE_DIR) / "tools" / "verify_trigger_log.py"


@pytest.fixture
def log(staff_member):
    """Seven entries over three risks, with text that exercises the canonical form."""
    risks = [RiskFactory(code=code) for code in ("R1", "R2", "R3")]
    for risk in risks:
        TriggerEntryFactory(risk=risk, recorded_by=staff_member)
    TriggerEntryFactory(
        risk=risks[0],
        recorded_by=staff_member,
        kind="update",
        reason='Café "quotes", back\\slash, tab\there,\nnew line, emoji 🚨, \u2028 and ünïcödé.',
    )
    TriggerEntryFactory(risk=risks[1], recorded_by=staff_member, kind="stood_down")
    TriggerEntryFactory(risk=risks[2], recorded_by=staff_member, kind="update", evidence="")
    TriggerEntryFactory(risk=risks[0], recorded_by=staff_member, kind="stood_down")
    # A rename after the fact changes nothing in the export or its hashes.
    risks[2].code = "R30"
    risks[2].save()
    staff_member.username = "samantha.staff"
    staff_member.save()


def export(client) -> list[dict]:
    """Every page of /api/v1/triggers/, as an auditor would fetch them (pages of 3)."""
    entries, url = [], "/api/v1/triggers/?page_size=3"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        entries += page["results"]
        url = page["next"] and page["next"].replace("http://testserver", "")
    return entries


def run(tmp_path, text: str, key: str, *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "entries.json").write_text(text, encoding="utf-8")
    (tmp_path / "key.pem").write_text(key, encoding="ascii")
    return subprocess.run(
        [sys.executable, str(TOOL), "entries.json", "--public-key", "key.pem", *extra],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def exported(client, auditor, log):
    client.force_login(auditor)
    entries = export(client)
    assert len(entries) == 7
    key = client.get("/api/v1/triggers/public-key/").content.decode()
    return entries, key


def test_an_export_through_the_api_verifies(tmp_path, exported):
    entries, key = exported
    result = run(tmp_path, json.dumps(entries, ensure_ascii=False, indent=1), key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Trigger log intact: 7 entries checked." in result.stdout
    assert entries[0]["entry_hash"] in result.stdout  # newest first: the head


def test_one_byte_changed_fails_naming_the_entry(tmp_path, exported):
    entries, key = exported
    text = json.dumps(entries, ensure_ascii=False, indent=1)
    target = next(e for e in entries if e["sequence"] == 4)
    at = text.index("Café")
    assert text.count("Café") == 1 and "Café" in target["reason"]
    changed = text[:at] + "K" + text[at + 1 :]  # one byte: C -> K
    assert len(changed.encode()) == len(text.encode())
    result = run(tmp_path, changed, key)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "entry #4: its content does not match its hash" in result.stdout


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("signature", "signature of its head does not verify"),
        ("entry_hash", "entry #"),
        ("recorded_by", "content does not match"),
        ("risk", "content does not match"),
    ],
)
def test_other_changes_fail(tmp_path, exported, field, words):
    entries, key = exported
    target = next(e for e in entries if e["sequence"] == 5)
    if field == "signature":
        signature = target["checkpoint"]["signature"]
        target["checkpoint"]["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
    elif field == "entry_hash":
        digest = target["entry_hash"]
        target["entry_hash"] = ("1" if digest[0] == "0" else "0") + digest[1:]  # always a change
    else:
        target[field] += "x"
    result = run(tmp_path, json.dumps(entries), key)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "entry #5" in result.stdout and words in result.stdout


def test_a_missing_entry_and_another_key_fail(tmp_path, exported):
    entries, key = exported
    without_third = [e for e in entries if e["sequence"] != 3]
    result = run(tmp_path, json.dumps(without_third), key)
    assert result.returncode == 1
    assert "entry #4: expected sequence 3" in result.stdout
    other = public_key_pem(Ed25519PrivateKey.generate().public_key())
    result = run(tmp_path, json.dumps(entries), other)
    assert result.returncode == 1
    assert "entry #1: the signature of its head does not verify" in result.stdout


def test_an_anchor_kept_elsewhere_catches_a_cut_back_export(tmp_path, exported, board_member):
    entries, key = exported
    review = services.review_create(
        user=board_member, quarter="2027-Q1", meeting_date=datetime.date(2027, 3, 15), attendees="C"
    )
    anchor = services.review_finalise(review=review, user=board_member).trigger_log_anchor
    held = f"{anchor.sequence}:{anchor.entry_hash}"
    assert run(tmp_path, json.dumps(entries), key, "--anchor", held).returncode == 0
    cut = [e for e in entries if e["sequence"] <= 5]
    result = run(tmp_path, json.dumps(cut), key, "--anchor", held)
    assert result.returncode == 1
    assert "entry #6: the head #7 kept elsewhere is past the end" in result.stdout


def test_unreadable_input_is_exit_2(tmp_path, exported):
    _, key = exported
    assert run(tmp_path, "not json", key).returncode == 2


def test_the_tool_needs_no_django():
    tree = ast.parse(TOOL.read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}
