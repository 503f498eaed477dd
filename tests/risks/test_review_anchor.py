"""A finalised board review holds the trigger log's signed head: its page, its exports and
the API show it, so the board keeps a copy outside the database."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

from risks import columns
from risks.services import review_create, review_finalise
from tests.factories import RiskFactory, TriggerEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(board_member, staff_member):
    risk = RiskFactory(code="T1")
    TriggerEntryFactory(risk=risk, recorded_by=staff_member)
    TriggerEntryFactory(risk=risk, recorded_by=staff_member, kind="update")
    draft = review_create(
        user=board_member, quarter="2027-Q2", meeting_date=datetime.date(2027, 6, 1), attendees="A"
    )
    return review_finalise(review=draft, user=board_member)


def test_the_anchor_is_the_signed_head_at_finalisation(review):
    anchor = review.trigger_log_anchor
    assert (anchor.kind, anchor.sequence, anchor.signed_at) == ("anchor", 2, review.finalised_at)


def test_the_page_shows_it(client, board_member, review):
    client.force_login(board_member)
    page = client.get("/reviews/2027-Q2/").content.decode()
    anchor = review.trigger_log_anchor
    assert "Trigger log anchor" in page
    for text in (anchor.entry_hash, anchor.signature, anchor.key_id, "#2"):
        assert text in page


def test_the_exports_show_it(client, board_member, review):
    client.force_login(board_member)
    anchor = review.trigger_log_anchor
    response = client.get("/reviews/2027-Q2/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = {c.name: c.header for c in columns.SNAPSHOT_COLUMNS}
    sequence, head = header["trigger_log_sequence"], header["trigger_log_head"]
    assert {(r[sequence], r[head]) for r in rows} == {("2", anchor.entry_hash)}
    book = load_workbook(io.BytesIO(client.get("/reviews/2027-Q2/export.xlsx").content))
    note = book["Current grid"]["A1"].value
    assert f"trigger log head #2 {anchor.entry_hash}" in note and anchor.signature in note


def test_the_api_shows_it(client, auditor, review):
    client.force_login(auditor)
    body = client.get("/api/v1/reviews/2027-Q2/").json()
    anchor = review.trigger_log_anchor
    assert body["trigger_log_anchor"]["sequence"] == 2
    assert body["trigger_log_anchor"]["entry_hash"] == anchor.entry_hash
    assert body["trigger_log_anchor"]["signature"] == anchor.signature
