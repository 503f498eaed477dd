"""GET /reviews/<quarter>/pack.pdf: the board pack, read back with poppler's pdftotext."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from http import HTTPStatus

import pytest

from risks import selectors
from risks.models import Risk
from risks.services import review_create, review_finalise

pytestmark = pytest.mark.django_db

URL = "/reviews/{}/pack.pdf"


def pdf_text(content: bytes, tmp_path, tool: str = "pdftotext") -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(content)
    # -raw: the text in the order it is drawn, each cell's count whole.
    args = [tool, "-raw", str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    # Installed by `make pdf-tools` (a prerequisite of `make test`).
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def review(seed, board_member):
    draft = review_create(
        user=board_member,
        quarter="2026-Q4",
        meeting_date="2026-11-20",
        attendees="Chair (ONDCP)\nDeputy (STATE)",
        decisions="Accept the funding risk until the next review.",
    )
    return draft


def test_final_pack_holds_every_open_risk_the_quarter_and_the_heatmap_counts(
    review, board_member, client, tmp_path
):
    final = review_finalise(review=review, user=board_member)
    client.force_login(board_member)

    response = client.get(URL.format("2026-Q4"))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="board-pack-2026-Q4.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content, tmp_path)
    assert "2026-Q4" in text and "20 November 2026" in text
    assert "Chair (ONDCP)" in text and "Accept the funding risk" in text
    codes = list(Risk.objects.exclude(status=Risk.Status.CLOSED).values_list("code", flat=True))
    assert codes
    for code in codes:
        assert re.search(rf"\b{re.escape(code)}\b", text), code
    # Every cell of both grids that holds risks says how many (an empty cell stays quiet).
    expected = Counter(
        cell.count
        for basis in selectors.BASES
        for cell in selectors.review_grid(review=final, basis=basis).cells
        if cell.count
    )
    assert sum(expected.values()) >= 2
    assert Counter(int(n) for n in re.findall(r"\b(\d+) risks?\b", text)) == expected
    assert "DRAFT" not in text


def test_the_pack_is_tagged_and_titled(review, board_member, client, tmp_path):
    client.force_login(board_member)

    info = pdf_text(client.get(URL.format("2026-Q4")).content, tmp_path, tool="pdfinfo")

    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE)
    assert re.search(r"^Title:\s+Board pack 2026-Q4 \(DRAFT\)", info, re.MULTILINE)


def test_a_draft_pack_is_watermarked(review, staff_member, client, tmp_path):
    client.force_login(staff_member)

    response = client.get(URL.format("2026-Q4"))

    assert response.status_code == HTTPStatus.OK
    assert "DRAFT" in response["Content-Disposition"]
    text = pdf_text(response.content, tmp_path)
    assert text.count("DRAFT") >= 2  # the cover and the watermark on every page


@pytest.fixture
def stub_render(monkeypatch):
    # Permissions only: no need to render a PDF for each persona.
    monkeypatch.setattr("risks.pack.review_pack_pdf", lambda **kwargs: b"%PDF-1.7 stub")


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("board_member", HTTPStatus.OK),
        ("staff_member", HTTPStatus.OK),
        ("auditor", HTTPStatus.OK),
        ("outsider", HTTPStatus.FORBIDDEN),
    ],
)
def test_who_may_have_the_pack(review, stub_render, client, request, persona, status):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(URL.format("2026-Q4")).status_code == status


def test_anonymous_is_sent_to_sign_in(review, stub_render, client):
    response = client.get(URL.format("2026-Q4"))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_an_unknown_quarter_is_404(stub_render, board_member, client):
    client.force_login(board_member)

    assert client.get(URL.format("2031-Q1")).status_code == HTTPStatus.NOT_FOUND
