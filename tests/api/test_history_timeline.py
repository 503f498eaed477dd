"""GET /api/v1/history/ without `model`: one timeline over every history table, filtered by
user, dates and risk, cursor-paged without skipping or repeating a row."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

from risks import services
from risks.models import MitigationAction, Risk
from roadmap.models import KeyAction
from roadmap.services import key_action_update
from tests.factories import KeyActionFactory, MitigationActionFactory, RiskFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _walk(client, path: str) -> list[dict]:
    rows, url = [], path
    while url:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, response.text
        body = response.json()
        rows += body["results"]
        url = body["next"] and body["next"].replace(client.base_url, "")
    return rows


@pytest.fixture
def changes(staff_member):
    """Changes by two people to risks, mitigations and the plan."""
    other = UserFactory(username="olga.other", groups=["Staff"])
    risk = RiskFactory(code="R1")
    mitigation = MitigationActionFactory(risk=risk)
    action = KeyActionFactory()
    services.risk_update(risk=risk, user=staff_member, title="Renamed")
    services.mitigation_update(mitigation=mitigation, user=staff_member, percent_complete=30)
    key_action_update(key_action=action, user=staff_member, status="delayed")
    services.risk_update(risk=RiskFactory(code="R2"), user=other, title="Theirs")
    return {"risk": risk, "mitigation": mitigation, "action": action}


def test_every_change_by_one_user_in_a_week(api, auditor, changes):
    week_ago = (timezone.now() - datetime.timedelta(days=7)).date().isoformat()
    rows = _walk(api(auditor), f"/api/v1/history/?user=sam.staff&after={week_ago}")
    assert [(r["model"], r["change_reason"]) for r in rows] == [
        ("key_action", "key_action_update"),
        ("mitigation", "mitigation_update"),
        ("risk", "risk_update"),
    ]
    assert {r["user"] for r in rows} == {"sam.staff"}
    dates = [r["history_date"] for r in rows]
    assert dates == sorted(dates, reverse=True)


def test_risk_filter_merges_the_risks_own_records(api, auditor, changes):
    rows = _walk(api(auditor), "/api/v1/history/?risk=R1")
    assert {r["model"] for r in rows} == {"risk", "mitigation"}
    assert {r["risk"] for r in rows} == {"R1"}
    mitigation = [r for r in rows if r["model"] == "mitigation" and r["history_type"] == "~"]
    assert mitigation[0]["changes"] == [{"field": "percent_complete", "old": 0, "new": 30}]


def test_one_model_still_answers_alone(api, auditor, changes):
    rows = _walk(api(auditor), "/api/v1/history/?model=key_action")
    assert {r["model"] for r in rows} == {"key_action"}
    assert len(rows) == 2


def test_walks_forward_and_back_through_ties_across_tables(api, auditor, changes):
    """Every row at the same instant: the order falls to (model, history_id), which is unique
    across tables, so pages of 2 meet every row exactly once, either way."""
    moment = timezone.now().replace(microsecond=0)
    for model in (Risk, MitigationAction, KeyAction):
        model.history.model.objects.update(history_date=moment)
    client = api(auditor)
    everything = client.get("/api/v1/history/?page_size=1000").json()["results"]
    assert len(everything) >= 8
    keys = [(r["model"], r["history_id"]) for r in everything]
    assert len(set(keys)) == len(keys)

    forward = _walk(client, "/api/v1/history/?page_size=2")
    assert [(r["model"], r["history_id"]) for r in forward] == keys

    oldest_first = _walk(client, "/api/v1/history/?page_size=3&ordering=history_date")
    assert [(r["model"], r["history_id"]) for r in oldest_first] == keys[::-1]

    # From the last page back to the first by `previous`.
    url, pages = "/api/v1/history/?page_size=2", []
    while url:
        body = client.get(url).json()
        url = body["next"] and body["next"].replace(client.base_url, "")
    url = body["previous"].replace(client.base_url, "")
    back = body["results"]
    while url:
        body = client.get(url).json()
        back = body["results"] + back
        pages.append(body)
        url = body["previous"] and body["previous"].replace(client.base_url, "")
    assert [(r["model"], r["history_id"]) for r in back] == keys
    assert pages[-1]["previous"] is None


def test_bad_input(api, auditor, changes):
    client = api(auditor)
    for query, status, key in [
        ("cursor=garbage", HTTPStatus.NOT_FOUND, "detail"),
        ("cursor=WzEsMiwzXQ", HTTPStatus.NOT_FOUND, "detail"),  # [1,2,3]
        ("object=3", HTTPStatus.BAD_REQUEST, "object"),
        ("ordering=title", HTTPStatus.BAD_REQUEST, "ordering"),
        ("user=sam.staff&after=yesterday", HTTPStatus.BAD_REQUEST, "after"),
    ]:
        response = client.get(f"/api/v1/history/?{query}")
        assert response.status_code == status, query
        assert key in response.json(), query


def test_timeline_holds_only_what_the_reader_may_view(api, changes):
    reader = UserFactory(username="rita.reader")
    from django.contrib.auth.models import Permission

    reader.user_permissions.add(Permission.objects.get(codename="view_keyaction"))
    rows = _walk(api(reader), "/api/v1/history/")
    assert {r["model"] for r in rows} == {"key_action"}
    response = api(reader).get("/api/v1/history/?model=risk")
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_the_timeline_is_one_statement_per_page(django_assert_max_num_queries, rf, auditor):
    """Counted on the domain functions: one UNION ALL for the keys, then per table on the
    page one query for the records and one for their previous records."""
    from risks import history

    RiskFactory.create_batch(3)
    MitigationActionFactory.create_batch(3)
    branches = {t: t.history_model.objects.all() for t in history.TRACKED.values()}
    with django_assert_max_num_queries(1):
        keys = history.merged_keys(branches, after=None, ascending=False, limit=50)
    assert len(keys) >= 6
    with django_assert_max_num_queries(2 * 2):
        records = history.records_for(keys)
    assert [r.history_id for r in records] == [k[2] for k in keys]
