"""The U.S. Web Design System's files are in the repository, at the version package.json pins,
with every font and image its CSS names: `make demo` needs no npm, collectstatic finds all."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
VENDOR = ROOT / "static" / "vendor" / "uswds"


def test_committed_version_is_the_pinned_one():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["@uswds/uswds"]
    assert (VENDOR / "VERSION").read_text().strip() == pinned


def test_every_file_the_css_names_is_there():
    css = (VENDOR / "css" / "uswds.min.css").read_text(encoding="utf-8")
    refs = {
        re.sub(r"[?#].*", "", ref.strip("'\""))
        for ref in re.findall(r"url\(([^)]*)\)", css)
        if ref.strip("'\"") and not ref.strip("'\"").startswith("data:")
    }
    assert refs, "the CSS names its fonts and images"
    missing = [ref for ref in refs if not (VENDOR / "css" / ref).resolve().is_file()]
    assert missing == []
    assert "sourceMappingURL" not in css


def test_pages_load_only_our_own_scripts(client, board_member):
    client.force_login(board_member)
    html = client.get("/").content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="/static/' in attrs for attrs in scripts)
