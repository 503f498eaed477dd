"""Who gets what, everywhere: every page and API endpoint, visited as anonymous, Auditor,
Board, Staff and superuser. The README's access table is this matrix.

Writes are sent with an empty body on purpose: a 400 proves the caller got past
authentication and permission to validation, and nothing is written."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from risks.models import BoardReview, Risk, TriggerEntry
from risks.services import contingency_invoke, review_create, review_finalise

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "auditor", "board", "staff", "superuser"]

# Expected status per persona, in the order of PERSONAS.
LOGIN = 302  # a page sends the anonymous visitor to /accounts/login/
READ = (LOGIN, 200, 200, 200, 200)
API_READ = (401, 200, 200, 200, 200)
STAFF_WRITE = (401, 403, 403, 400, 400)  # 400: past permissions, refused by validation
NO_METHOD = (401, 405, 405, 405, 405)

MATRIX = [
    # Open to everyone
    ("GET", "/accounts/login/", (200, 200, 200, 200, 200)),
    ("GET", "/healthz", (200, 200, 200, 200, 200)),
    # The board's pages
    ("GET", "/", READ),
    ("GET", "/heatmap/", READ),
    ("GET", "/heatmap/?basis=nonsense", (LOGIN, 400, 400, 400, 400)),
    ("GET", "/risks/", READ),
    ("GET", "/risks/R1/", READ),
    ("GET", "/risks/export.csv", READ),
    ("GET", "/risks/export.xlsx", READ),
    ("GET", "/reviews/", READ),
    ("GET", "/reviews/2027-Q1/", READ),
    ("GET", "/reviews/2026-Q4/", READ),
    ("GET", "/reviews/2026-Q4/export.csv", READ),
    ("GET", "/reviews/2026-Q4/export.xlsx", READ),
    ("GET", "/reviews/2026-Q4/pack.pdf", READ),
    ("GET", "/reviews/2031-Q1/pack.pdf", (LOGIN, 404, 404, 404, 404)),
    ("POST", "/reviews/", (LOGIN, 403, 400, 403, 400)),
    ("POST", "/reviews/2027-Q1/finalise/", (LOGIN, 403, 400, 403, 400)),
    ("POST", "/accounts/logout-everywhere/", (LOGIN, 302, 302, 302, 302)),
    ("GET", "/accounts/tokens/", READ),
    ("GET", "/accounts/password_change/", READ),
    ("GET", "/admin/accounts/apitoken/", (302, 403, 302, 403, 200)),
    # The admin: Staff and Auditor (view only) work there; the board does not
    ("GET", "/admin/", (302, 200, 302, 200, 200)),
    ("GET", "/admin/risks/risk/", (302, 200, 302, 200, 200)),
    ("GET", "/admin/risks/risk/{r1}/change/", (302, 200, 302, 200, 200)),
    ("GET", "/admin/risks/risk/{r1}/history/", (302, 200, 302, 200, 200)),
    ("GET", "/admin/risks/risk/{r1}/delete/", (302, 403, 302, 403, 200)),
    ("GET", "/admin/risks/triggerentry/{entry}/delete/", (302, 403, 302, 403, 403)),
    ("GET", "/admin/risks/risk/add/", (302, 403, 302, 200, 200)),
    ("GET", "/admin/risks/reminder/", (302, 200, 302, 200, 200)),
    ("GET", "/admin/risks/ratingband/1/change/", (302, 200, 302, 200, 200)),
    ("POST", "/admin/risks/ratingband/1/change/", (302, 403, 302, 403, 200)),
    # API reads: every signed-in role
    ("GET", "/api/v1/", API_READ),
    ("GET", "/api/v1/risks/", API_READ),
    ("GET", "/api/v1/risks/R1/", API_READ),
    ("GET", "/api/v1/risks/?format=csv", API_READ),
    ("GET", "/api/v1/assessments/", API_READ),
    ("GET", "/api/v1/mitigations/", API_READ),
    ("GET", "/api/v1/triggers/", API_READ),
    ("GET", "/api/v1/triggers/{entry_seq}/", API_READ),
    ("GET", "/api/v1/triggers/verify/", API_READ),
    ("GET", "/api/v1/triggers/public-key/", (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/indicators/", API_READ),
    ("GET", "/api/v1/breaches/", API_READ),
    ("GET", "/api/v1/reviews/", API_READ),
    ("GET", "/api/v1/reviews/2027-Q1/", API_READ),
    ("GET", "/api/v1/history/", API_READ),
    ("GET", "/api/v1/phases/", API_READ),
    ("GET", "/api/v1/agencies/", API_READ),
    ("GET", "/api/v1/key-actions/", API_READ),
    ("GET", "/api/v1/metrics/", API_READ),
    ("GET", "/api/v1/metrics/1/readings/", API_READ),
    ("GET", "/api/v1/heatmap/", API_READ),
    ("GET", "/api/schema/", API_READ),
    ("GET", "/api/docs/", READ),  # a page for people: sign in and come back
    # API writes: Staff only
    ("POST", "/api/v1/risks/", STAFF_WRITE),
    ("POST", "/api/v1/assessments/", STAFF_WRITE),
    ("POST", "/api/v1/mitigations/", STAFF_WRITE),
    ("POST", "/api/v1/risks/R3/invoke-contingency/", STAFF_WRITE),
    ("POST", "/api/v1/risks/R1/stand-down/", STAFF_WRITE),
    ("POST", "/api/v1/metrics/1/readings/", STAFF_WRITE),
    ("PATCH", "/api/v1/risks/R2/", (401, 403, 403, 428, 428)),
    # Methods a resource does not have
    ("DELETE", "/api/v1/risks/R1/", NO_METHOD),
    ("DELETE", "/api/v1/triggers/{entry_seq}/", NO_METHOD),
    ("PATCH", "/api/v1/triggers/{entry_seq}/", NO_METHOD),
    ("DELETE", "/api/v1/assessments/1/", NO_METHOD),
    ("POST", "/api/v1/heatmap/", NO_METHOD),
]


@pytest.fixture
def register(seed, staff_member, board_member):
    entry = contingency_invoke(
        risk=Risk.objects.get(code="R1"),
        user=staff_member,
        reason="Reauthorization stalled in committee.",
    )
    final = review_create(
        user=board_member,
        quarter="2026-Q4",
        meeting_date=datetime.date(2026, 11, 20),
        attendees="Board",
    )
    review_finalise(review=final, user=board_member)
    review_create(
        user=board_member,
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 15),
        attendees="Board",
    )
    return {"r1": entry.risk_id, "entry": entry.pk, "entry_seq": entry.sequence}


@pytest.fixture
def clients(auditor, board_member, staff_member, admin_user):
    made = {"anonymous": Client()}
    for name, user in [
        ("auditor", auditor),
        ("board", board_member),
        ("staff", staff_member),
        ("superuser", admin_user),
    ]:
        made[name] = Client()
        made[name].force_login(user)
    return made


@pytest.mark.parametrize(
    ("method", "path", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX]
)
def test_access_matrix(register, clients, method, path, expected):
    url = path.format(**register)
    entries_before = TriggerEntry.objects.count()
    reviews_before = list(BoardReview.objects.values_list("quarter", "status"))
    answers = {}
    for persona in PERSONAS:
        client = clients[persona]
        send = getattr(client, method.lower())
        if method == "GET":
            response = send(url)
        elif "/api/" in url:
            response = send(url, data="{}", content_type="application/json")
        else:
            response = send(url, data={})
        answers[persona] = response.status_code
    assert answers == dict(zip(PERSONAS, expected, strict=True))
    assert TriggerEntry.objects.count() == entries_before
    assert list(BoardReview.objects.values_list("quarter", "status")) == reviews_before
