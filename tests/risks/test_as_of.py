"""?as_of=D: every record as it stood at the end of day D, read from the change history."""

from __future__ import annotations

import csv
import datetime
import io
from http import HTTPStatus

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from risks.models import BoardReview, Risk, RiskAcceptance
from risks.services import (
    history_baseline_all,
    mitigation_update,
    risk_assess,
    risk_close,
    risk_create,
    risk_update,
)
from roadmap.services import key_action_update
from tests.factories import (
    AgencyFactory,
    KeyActionFactory,
    MitigationActionFactory,
    RiskFactory,
    TriggerEntryFactory,
)

pytestmark = pytest.mark.django_db

DAY1, DAY3, DAY5, DAY7 = (
    datetime.datetime(2026, 3, d, 12, tzinfo=datetime.UTC) for d in (1, 3, 5, 7)
)


@pytest.fixture
def story(staff_member):
    """X1: created 2x2 on day 1; re-rated 5x5, owner changed and STATE added on day 3; closed
    on day 5. Y1: created on day 3."""
    ondcp, state = AgencyFactory(code="ONDCP"), AgencyFactory(code="STATE")
    with time_machine.travel(DAY1, tick=False):
        risk = risk_create(
            user=staff_member,
            rationale="First rating.",
            code="X1",
            title="A risk",
            statement="Because, so that.",
            category=Risk.Category.POLITICAL,
            owner="Ann",
            owner_agency=ondcp,
            likelihood=2,
            impact=2,
            target_likelihood=1,
            target_impact=1,
            mitigation_strategy="Reduce.",
            contingency_plan="Respond.",
        )
    with time_machine.travel(DAY3, tick=False):
        risk_assess(risk=risk, likelihood=5, impact=5, rationale="Worse.", user=staff_member)
        risk.refresh_from_db()
        risk_update(risk=risk, user=staff_member, owner="Bob", supporting_agencies=[state])
        risk_create(
            user=staff_member,
            rationale="New.",
            code="Y1",
            title="Later risk",
            statement="Because, so that.",
            category=Risk.Category.SECURITY,
            owner="Cy",
            owner_agency=ondcp,
            likelihood=3,
            impact=3,
            target_likelihood=1,
            target_impact=1,
            mitigation_strategy="Reduce.",
            contingency_plan="Respond.",
        )
    with time_machine.travel(DAY5, tick=False):
        risk_close(risk=risk, reason="Resolved.", user=staff_member)
    return risk


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def _api(client, **params) -> dict[str, dict]:
    response = client.get(reverse("api:risk-list"), params)
    assert response.status_code == HTTPStatus.OK, response.content
    return {row["code"]: row for row in response.json()["results"]}


def test_every_field_is_as_it_stood(story, auditor_client):
    day2 = _api(auditor_client, as_of="2026-03-02")
    assert list(day2) == ["X1"]  # Y1 did not exist yet
    x1 = day2["X1"]
    assert (x1["score"], x1["rating"], x1["above_appetite"]) == (4, "Low", False)
    assert (x1["owner"], x1["supporting_agencies"], x1["status"]) == ("Ann", [], "open")
    assert x1["closed_at"] is None and x1["version"] == 2  # created, then first assessment

    day4 = _api(auditor_client, as_of="2026-03-04")["X1"]
    assert (day4["score"], day4["owner"], day4["supporting_agencies"]) == (25, "Bob", ["STATE"])
    assert day4["last_assessed_at"].startswith("2026-03-03")

    day6 = _api(auditor_client, as_of="2026-03-06")["X1"]
    assert day6["status"] == "closed" and day6["closed_at"].startswith("2026-03-05")


def test_filters_read_the_past(story, auditor_client):
    assert list(_api(auditor_client, as_of="2026-03-02", rating="Low")) == ["X1"]
    assert list(_api(auditor_client, as_of="2026-03-02", rating="Critical")) == []
    assert list(_api(auditor_client, as_of="2026-03-04", agency="STATE")) == ["X1"]
    assert list(_api(auditor_client, as_of="2026-03-02", agency="STATE")) == []
    assert sorted(_api(auditor_client, as_of="2026-03-06", status="closed")) == ["X1"]


def test_before_anything_existed_the_register_is_empty(story, auditor_client):
    assert _api(auditor_client, as_of="2026-02-28") == {}


def test_detail_of_a_closed_risk_as_of_a_later_day(story, client, board_member):
    client.force_login(board_member)
    page = client.get(reverse("risks:detail", args=["X1"]), {"as_of": "2026-03-06"})
    assert page.status_code == HTTPStatus.OK
    assert page.context["risk"].status == "closed"
    earlier = client.get(reverse("risks:detail", args=["X1"]), {"as_of": "2026-03-02"})
    assert earlier.context["risk"].score == 4 and earlier.context["page"].assessments[0].score == 4
    missing = client.get(reverse("risks:detail", args=["Y1"]), {"as_of": "2026-03-02"})
    assert missing.status_code == HTTPStatus.NOT_FOUND
    bad = client.get(reverse("risks:detail", args=["X1"]), {"as_of": "2026-02-30"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST


def test_page_api_and_exports_agree(story, client, board_member, auditor_client):
    client.force_login(board_member)
    for day in ("2026-03-02", "2026-03-04", "2026-03-06"):
        api = {code: row["score"] for code, row in _api(auditor_client, as_of=day).items()}
        page = client.get(reverse("risks:list"), {"as_of": day})
        shown = {risk.code: risk.score for risk in page.context["risks"]}
        board_csv = client.get(reverse("risks:export-csv"), {"as_of": day})
        rows = list(csv.reader(io.StringIO(b"".join(board_csv.streaming_content).decode())))
        api_csv = auditor_client.get(reverse("api:risk-list"), {"as_of": day, "format": "csv"})
        api_rows = list(csv.DictReader(io.StringIO(b"".join(api_csv.streaming_content).decode())))
        assert shown == api
        assert {row[0] for row in rows[2:]} == set(api)  # the board's file: code first
        assert {row["code"]: int(row["score"]) for row in api_rows} == api


def test_heatmap_as_of_counts_the_risks_open_then(story, auditor_client):
    def cells(day):
        grid = auditor_client.get(reverse("api:heatmap"), {"as_of": day}).json()
        return {(c["likelihood"], c["impact"]): c["risks"] for c in grid["cells"] if c["count"]}

    assert cells("2026-03-02") == {(2, 2): ["X1"]}
    assert cells("2026-03-04") == {(5, 5): ["X1"], (3, 3): ["Y1"]}
    assert cells("2026-03-06") == {(3, 3): ["Y1"]}  # X1 closed by then


def test_the_past_is_read_only(story, staff_member, client):
    client.force_login(staff_member)
    url = reverse("api:risk-detail", args=["Y1"]) + "?as_of=2026-03-04"
    response = client.patch(url, {"title": "New"}, content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert Risk.objects.get(code="Y1").title == "Later risk"


def test_a_seeded_risk_has_a_baseline_and_a_title_edit_changes_one_field(seed, staff_member):
    risk = Risk.objects.get(code="R4")
    baseline = risk.history.get()
    assert baseline.history_date.date() == datetime.date(2026, 1, 28)  # its first assessment
    risk_update(risk=risk, user=staff_member, title="Renamed")
    latest = risk.history.first()
    assert [c.field for c in latest.diff_against(latest.prev_record).changes] == ["title"]


def test_dashboard_as_of_shows_the_register_of_that_day(story, client, board_member):
    client.force_login(board_member)

    def board(day):
        response = client.get("/", {"as_of": day})
        assert response.status_code == HTTPStatus.OK
        return response.context["board"]

    day2 = board("2026-03-02")
    assert [(r.code, r.score) for r in day2.top_risks] == [("X1", 4)]
    assert (day2.today, day2.above_appetite_total) == (datetime.date(2026, 3, 2), 0)
    assert [c.assessment.risk.code for c in day2.rating_changes] == ["X1"]
    day4 = board("2026-03-04")
    assert [(r.code, r.score) for r in day4.top_risks] == [("X1", 25), ("Y1", 9)]
    assert [r.code for r in day4.above_appetite] == ["X1"]
    assert [r.owner for r in day4.top_risks] == ["Bob", "Cy"]
    assert [r.code for r in board("2026-03-06").top_risks] == ["Y1"]  # X1 closed on day 5
    assert board("2026-02-28").top_risks == []
    html = client.get("/", {"as_of": "2026-03-04"}).content.decode()
    assert 'href="/risks/X1/?as_of=2026-03-04"' in html


def test_dashboard_refuses_a_bad_as_of(story, client, board_member):
    client.force_login(board_member)
    for bad in ("2026-02-30", "yesterday", "2026-3"):
        assert client.get("/", {"as_of": bad}).status_code == HTTPStatus.BAD_REQUEST
    assert client.post("/?as_of=2026-03-04").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_dashboard_as_of_queries_do_not_grow_with_the_register(
    story, client, board_member, staff_member
):
    client.force_login(board_member)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/", {"as_of": "2026-03-04"}).status_code == HTTPStatus.OK
        return len(captured)

    few = queries()
    with time_machine.travel(DAY3, tick=False):
        for risk in RiskFactory.create_batch(12, next_review_due=datetime.date(2026, 1, 1)):
            risk_assess(risk=risk, likelihood=5, impact=4, rationale="Worse.", user=staff_member)
            TriggerEntryFactory(risk=risk, recorded_by=staff_member)
    board = client.get("/", {"as_of": "2026-03-04"}).context["board"]
    assert (len(board.top_risks), len(board.contingencies)) == (10, 12)
    assert queries() == few


def test_a_code_that_moved_to_another_risk_names_the_risk_that_held_it_that_day(
    staff_member, client, board_member
):
    """A1 is renamed A2 on day 3 and its mitigation moves to B on day 5, when B takes the
    code A1: each day's page shows the risk that had the code then, with its mitigations."""
    with time_machine.travel(DAY1, tick=False):
        first = RiskFactory(code="A1", title="First holder")
        mitigation = MitigationActionFactory(risk=first, title="Moved later")
    with time_machine.travel(DAY3, tick=False):
        risk_update(risk=first, user=staff_member, code="A2")
    with time_machine.travel(DAY5, tick=False):
        second = RiskFactory(code="A1", title="Second holder")
        mitigation_update(mitigation=mitigation, user=staff_member, risk=second)
    client.force_login(board_member)

    def page(code: str, day: str):
        return client.get(reverse("risks:detail", args=[code]), {"as_of": day})

    for code, day, title, mitigations in [
        ("A1", "2026-03-01", "First holder", ["Moved later"]),
        ("A2", "2026-03-03", "First holder", ["Moved later"]),
        ("A1", "2026-03-05", "Second holder", ["Moved later"]),
        ("A2", "2026-03-05", "First holder", []),
    ]:
        shown = page(code, day)
        assert shown.status_code == HTTPStatus.OK, (code, day)
        assert shown.context["risk"].title == title, (code, day)
        assert [m.title for m in shown.context["page"].mitigations] == mitigations, (code, day)
    assert page("A1", "2026-03-03").status_code == HTTPStatus.NOT_FOUND  # nobody's code then
    assert page("A2", "2026-03-01").status_code == HTTPStatus.NOT_FOUND  # not yet anybody's


def test_a_past_risk_page_shows_its_key_actions_as_they_stood(
    story, client, board_member, staff_member
):
    """Y1 is linked to a key action on day 3 that is renamed and completed on day 5: the page
    of day 3 shows it as it was, with its lead agencies (today's: the plan keeps no history
    of them)."""
    risk = Risk.objects.get(code="Y1")
    with time_machine.travel(DAY3, tick=False):
        action = KeyActionFactory(title="Draft the bill", lead_agencies=[AgencyFactory(code="DOJ")])
        risk_update(risk=risk, user=staff_member, key_actions=[action])
    with time_machine.travel(DAY5, tick=False):
        key_action_update(
            key_action=action, user=staff_member, title="Pass the bill", status="completed"
        )
    client.force_login(board_member)
    url = reverse("risks:detail", args=["Y1"])
    for day, text in [
        ("2026-03-03", "Draft the bill (DOJ; Months 1-6; Not started)"),
        ("2026-03-05", "Pass the bill (DOJ; Months 1-6; Completed)"),
    ]:
        page = client.get(url, {"as_of": day})
        assert text in page.content.decode(), day
    assert "Pass the bill (DOJ; Months 1-6; Completed)" in client.get(url).content.decode()


def test_risk_page_as_of_queries_do_not_grow_with_its_history(
    story, client, board_member, staff_member
):
    """One mitigation and key action, then six and four: the same queries (the key actions'
    lead agencies are prefetched, as on today's page)."""
    client.force_login(board_member)
    url = reverse("risks:detail", args=["Y1"])
    risk = Risk.objects.get(code="Y1")

    def grow(mitigations: int, key_actions: int) -> int:
        with time_machine.travel(DAY7, tick=False):
            for n in range(mitigations):
                MitigationActionFactory(risk=risk, title=f"Action {n}")
                risk_update(risk=risk, user=staff_member, owner=f"Owner {n}")
            actions = [*risk.key_actions.all(), *KeyActionFactory.create_batch(key_actions)]
            for action in actions:
                action.lead_agencies.add(AgencyFactory(), AgencyFactory())
            risk_update(risk=risk, user=staff_member, key_actions=actions)
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url, {"as_of": "2026-03-07"}).context["page"]
        return len(page.mitigations), len(page.key_actions), len(captured)

    few = grow(1, 1)
    many = grow(5, 3)
    assert (few[:2], many[:2]) == ((1, 1), (6, 4))
    assert many[2] == few[2]


def test_a_record_known_by_its_day_gets_a_baseline_at_the_start_of_that_day(seed, staff_member):
    """An acceptance says only the day it was made: its baseline is midnight UTC that day."""
    review = BoardReview.objects.create(
        quarter="2027-Q1", meeting_date=datetime.date(2027, 3, 15), created_by=staff_member
    )
    acceptance = RiskAcceptance.objects.create(
        risk=Risk.objects.get(code="R1"),
        review=review,
        accepted_by=staff_member,
        accepted_on=datetime.date(2027, 3, 15),
        expires_on=datetime.date(2027, 9, 15),
        rationale="Within appetite once the hearing is past.",
    )
    acceptance.history.all().delete()  # as if it had arrived without a save

    assert history_baseline_all(reason="baseline: test")["risks.RiskAcceptance"] == 1
    baseline = acceptance.history.get()
    assert baseline.history_date == datetime.datetime(2027, 3, 15, tzinfo=datetime.UTC)
    assert (baseline.history_type, baseline.history_change_reason) == ("+", "baseline: test")
