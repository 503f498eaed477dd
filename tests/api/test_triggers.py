"""GET /api/v1/triggers/: the append-only log, its filters and the chain check."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

from common import signing
from risks.models import TriggerChainHead, TriggerEntry
from tests.factories import RiskFactory, TriggerEntryFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def log(staff_member):
    """R1 invoked, updated and stood down by sam.staff; R2 invoked by another user."""
    r1, r2 = RiskFactory(code="R1"), RiskFactory(code="R2")
    other = UserFactory(username="olga.other", groups=["Staff"])
    for kind in ("invoked", "update", "stood_down"):
        TriggerEntryFactory(risk=r1, recorded_by=staff_member, kind=kind)
    TriggerEntryFactory(risk=r2, recorded_by=other)


def _sequences(response) -> list[int]:
    assert response.status_code == HTTPStatus.OK, response.text
    return [row["sequence"] for row in response.json()["results"]]


def test_filters(api, auditor, log):
    client = api(auditor)
    for query, sequences in [
        ("", [4, 3, 2, 1]),
        ("risk=R1", [3, 2, 1]),
        ("user=olga.other", [4]),
        ("kind=invoked", [4, 1]),
        ("risk=R1&kind=stood_down", [3]),
        ("ordering=sequence", [1, 2, 3, 4]),
    ]:
        assert _sequences(client.get(f"/api/v1/triggers/?{query}")) == sequences, query


def test_date_range(api, auditor, log):
    client = api(auditor)
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    assert _sequences(client.get(f"/api/v1/triggers/?after={today}")) == [4, 3, 2, 1]
    assert _sequences(client.get(f"/api/v1/triggers/?after={tomorrow}")) == []
    assert _sequences(client.get(f"/api/v1/triggers/?before={today}")) == []
    assert _sequences(client.get(f"/api/v1/triggers/?before={tomorrow}&risk=R2")) == [4]


def test_bad_filter_is_400_naming_it(api, auditor, log):
    client = api(auditor)
    for query in ["risk=R404", "kind=exploded", "after=yesterday", "before=2027-13-01"]:
        response = client.get(f"/api/v1/triggers/?{query}")
        assert response.status_code == HTTPStatus.BAD_REQUEST, query
        assert query.split("=")[0] in response.json()


def test_cursor_pages_and_retrieve_by_sequence(api, board_member, log):
    client = api(board_member)
    first = client.get("/api/v1/triggers/?page_size=3").json()
    assert [r["sequence"] for r in first["results"]] == [4, 3, 2]
    second = client.get(first["next"].replace(client.base_url, "")).json()
    assert [r["sequence"] for r in second["results"]] == [1]
    entry = client.get("/api/v1/triggers/2/").json()
    assert (entry["kind"], entry["risk"], entry["recorded_by"]) == ("update", "R1", "sam.staff")
    assert client.get("/api/v1/triggers/99/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/api/v1/triggers/?cursor=garbage").status_code == HTTPStatus.NOT_FOUND


def test_append_only_through_the_api(api, staff_member, admin_user, log):
    for user in (staff_member, admin_user):
        client = api(user)
        assert client.put("/api/v1/triggers/1/", {"reason": "x"}).status_code == 405
        assert client.patch("/api/v1/triggers/1/", {"reason": "x"}).status_code == 405
        assert client.delete("/api/v1/triggers/1/").status_code == 405
        assert client.post("/api/v1/triggers/", {"reason": "x"}).status_code == 405
    assert TriggerEntry.objects.get(sequence=1).reason.startswith("Trigger condition met")


def test_anonymous_401_outsider_403(api, outsider, log):
    assert api().get("/api/v1/triggers/").status_code == HTTPStatus.UNAUTHORIZED
    assert api(outsider).get("/api/v1/triggers/").status_code == HTTPStatus.FORBIDDEN
    assert api(outsider).get("/api/v1/triggers/verify/").status_code == HTTPStatus.FORBIDDEN


def test_verify_intact_chain(api, auditor, log):
    response = api(auditor).get("/api/v1/triggers/verify/")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    head = TriggerChainHead.objects.get()
    assert body == {
        "ok": True,
        "checked": 4,
        "message": "Trigger log intact: 4 entries checked.",
        "head_hash": head.entry_hash,
        "first_bad_sequence": None,
        "key_id": signing.key_id(),
        "reviews_checked": 0,
    }


def test_verify_broken_chain_is_409_with_ok_false(api, auditor, log):
    # A fifth entry written past the service (a plain INSERT): nobody signed its head.
    fifth = TriggerEntry.objects.get(sequence=4)
    fifth.pk, fifth._state.adding = None, True
    fifth.sequence, fifth.prev_hash, fifth.entry_hash = 5, fifth.entry_hash, "f" * 64
    fifth.save()
    response = api(auditor).get("/api/v1/triggers/verify/")
    assert response.status_code == HTTPStatus.CONFLICT
    body = response.json()
    assert body["ok"] is False
    assert body["first_bad_sequence"] == 5
    assert "entry #5" in body["message"]


def test_each_entry_carries_what_recomputes_its_hash_and_signature(api, auditor, log):
    entry = api(auditor).get("/api/v1/triggers/2/").json()
    stored = TriggerEntry.objects.select_related("checkpoint").get(sequence=2)
    assert entry["checkpoint"] == {
        "origin": stored.checkpoint.origin,
        "sequence": 2,
        "entry_hash": stored.entry_hash,
        "signed_at": entry["recorded_at"],
        "key_id": signing.key_id(),
        "signature": stored.checkpoint.signature,
    }


def test_public_key_is_pem_for_anyone(api):
    response = api().get("/api/v1/triggers/public-key/")
    assert response.status_code == HTTPStatus.OK
    assert response.headers["Content-Type"].startswith("application/x-pem-file")
    assert response.content.decode() == signing.public_key_pem()
    assert response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    bad_token = api().get(
        "/api/v1/triggers/public-key/", headers={"Authorization": "Token not-a-token"}
    )
    assert bad_token.status_code == HTTPStatus.UNAUTHORIZED
    assert bad_token.headers["Content-Type"] == "application/json"
    assert "detail" in bad_token.json()


def test_empty_log_verifies(api, auditor):
    body = api(auditor).get("/api/v1/triggers/verify/").json()
    assert (body["ok"], body["checked"]) == (True, 0)


def test_csv(api, auditor, log):
    response = api(auditor).get("/api/v1/triggers/?format=csv&risk=R1")
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("sequence,kind,risk,")
    assert len(lines) == 4
