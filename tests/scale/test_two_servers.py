"""Two app servers on one database (through PgBouncer in transaction pooling mode) and one
Redis, driven together over real HTTP. `make scale-test` (bench/scale_test.py) builds the
database, starts PgBouncer and both gunicorn instances, and runs this file against them;
without it the file is skipped. Nothing here touches the database except through them."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import threading
from http import HTTPStatus
from pathlib import Path

import pytest
import requests

if not os.environ.get("SCALE_SERVERS"):
    pytest.skip("needs two running app servers: make scale-test", allow_module_level=True)

pytestmark = pytest.mark.scale

SERVERS = os.environ["SCALE_SERVERS"].split(",")
A, B = SERVERS
TOKENS = json.loads(os.environ["SCALE_TOKENS"])
PASSWORD = os.environ["SCALE_PASSWORD"]
TIMEOUT = 120
ENTRY = {
    "reason": "Homicides above 30,000 for two quarters.",
    "evidence": "INEGI quarterly report.",
    "actions_taken": "Security cooperation surge.",
    "authorised_by": "Deputy Director, INL",
}


def api(user: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {TOKENS[user]}"
    return session


def together(calls) -> list:
    """Run each call in its own thread, all released at once; their results in order."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # reported by the assertion below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return results


def test_concurrent_contingency_invocations_through_both_servers_give_exactly_one_entry():
    staff = api("scale.staff")
    url = "/api/v1/risks/R3/invoke-contingency/"
    calls = [
        (lambda server=server: staff.post(f"{server}{url}", json=ENTRY, timeout=TIMEOUT))
        for server in SERVERS * 4
    ]
    responses = together(calls)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [HTTPStatus.CREATED] + [HTTPStatus.CONFLICT] * 7, [
        (r.status_code, r.text[:200]) for r in responses
    ]
    for server in SERVERS:
        entries = staff.get(f"{server}/api/v1/triggers/?risk=R3", timeout=TIMEOUT).json()
        assert [entry["kind"] for entry in entries["results"]] == ["invoked"]
        risk = staff.get(f"{server}/api/v1/risks/R3/", timeout=TIMEOUT).json()
        assert risk["status"] == "contingency_active"


def _grid(session: requests.Session, server: str) -> dict[tuple[int, int], int]:
    response = session.get(f"{server}/api/v1/heatmap/", timeout=TIMEOUT)
    assert response.status_code == HTTPStatus.OK, response.text[:300]
    return {(c["likelihood"], c["impact"]): c["count"] for c in response.json()["cells"]}


def _rating(session: requests.Session, server: str, code: str) -> tuple[int, int]:
    risk = session.get(f"{server}/api/v1/risks/{code}/", timeout=TIMEOUT).json()
    return risk["likelihood"]["level"], risk["impact"]["level"]


def test_a_rating_change_through_one_server_is_on_the_others_heatmap_at_once():
    staff, board = api("scale.staff"), api("scale.board")
    for writer, reader, cell in [(A, B, (1, 1)), (B, A, (5, 5)), (A, B, (2, 4)), (B, A, (4, 2))]:
        old = _rating(board, reader, "R1")
        before = _grid(board, reader)  # the reader has the grid in hand (and in its cache)
        assert _grid(board, reader) == before
        response = staff.post(
            f"{writer}/api/v1/assessments/",
            json={
                "risk": "R1",
                "likelihood": cell[0],
                "impact": cell[1],
                "rationale": "Re-rated on the other server.",
            },
            timeout=TIMEOUT,
        )
        assert response.status_code == HTTPStatus.CREATED, response.text[:300]

        after = _grid(board, reader)
        expected = dict(before)
        expected[old] -= 1
        expected[cell] += 1
        assert after == expected, f"{reader} still shows the grid from before {writer}'s change"
        assert _rating(board, reader, "R1") == cell


def test_the_api_throttle_counts_the_requests_to_both_servers():
    limit = int(os.environ["SCALE_THROTTLE_LIMIT"])
    auditor = api("scale.throttled")
    statuses = [
        auditor.get(f"{SERVERS[i % 2]}/api/v1/phases/", timeout=TIMEOUT).status_code
        for i in range(limit)
    ]
    # Each server saw only half of them: only a shared count reaches the limit.
    assert statuses == [HTTPStatus.OK] * limit
    for server in SERVERS:
        refused = auditor.get(f"{server}/api/v1/phases/", timeout=TIMEOUT)
        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS, refused.text[:200]
        assert "Retry-After" in refused.headers


def test_stale_edits_are_refused_across_both_servers():
    editor = api("scale.editor")
    etag = editor.get(f"{A}/api/v1/risks/R2/", timeout=TIMEOUT).headers["ETag"]

    def save(server: str, title: str):
        return lambda: editor.patch(
            f"{server}/api/v1/risks/R2/",
            json={"title": title},
            headers={"If-Match": etag},
            timeout=TIMEOUT,
        )

    responses = together([save(A, "Saved through A"), save(B, "Saved through B")])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [HTTPStatus.OK, HTTPStatus.PRECONDITION_FAILED], [
        (r.status_code, r.text[:200]) for r in responses
    ]
    winner = next(r for r in responses if r.status_code == HTTPStatus.OK).json()["title"]
    for server in SERVERS:
        late = save(server, "Too late")()
        assert late.status_code == HTTPStatus.PRECONDITION_FAILED, late.text[:200]
        assert editor.get(f"{server}/api/v1/risks/R2/", timeout=TIMEOUT).json()["title"] == winner


def _sign_in(server: str, username: str, password: str) -> tuple[requests.Session, int]:
    """Signs in through the form; the session and the answer's status (with its text on
    stdout, which pytest shows for a failing test)."""
    session = requests.Session()
    page = session.get(f"{server}/accounts/login/", timeout=TIMEOUT)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{server}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{server}/accounts/login/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    print(server, username, response.status_code, re.findall(r"<p[^>]*>(.*?)</p>", response.text))
    return session, response.status_code


def test_a_session_started_on_one_server_is_good_on_the_other_and_ends_on_both():
    session, status = _sign_in(A, "scale.board", PASSWORD)
    assert status == HTTPStatus.FOUND
    for server in (B, A):
        page = session.get(f"{server}/heatmap/", allow_redirects=False, timeout=TIMEOUT)
        assert page.status_code == HTTPStatus.OK, server
    out = session.post(
        f"{B}/accounts/logout/",
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{B}/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert out.status_code == HTTPStatus.FOUND
    page = session.get(f"{A}/heatmap/", allow_redirects=False, timeout=TIMEOUT)
    assert page.status_code == HTTPStatus.FOUND
    assert page.headers["Location"].startswith("/accounts/login/")


def test_failed_sign_ins_on_both_servers_add_up_to_one_lockout():
    # AXES_FAILURE_LIMIT is 5: three failures on one server and two on the other lock it.
    statuses = [
        _sign_in(SERVERS[attempt % 2], "scale.locked", "wrong password")[1] for attempt in range(5)
    ]
    assert statuses == [HTTPStatus.OK] * 4 + [HTTPStatus.TOO_MANY_REQUESTS]
    for server in SERVERS:
        _, status = _sign_in(server, "scale.locked", PASSWORD)
        assert status == HTTPStatus.TOO_MANY_REQUESTS, server


def _csv_rows(session: requests.Session, url: str) -> list[list[str]]:
    with session.get(url, stream=True, timeout=TIMEOUT) as response:
        assert response.status_code == HTTPStatus.OK, response.text[:300]
        text = b"".join(response.iter_content(64 * 1024)).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_full_csv_exports_stream_through_pgbouncer_on_both_servers_at_once():
    risks = int(os.environ["SCALE_REGISTER_SIZE"])
    board = api("scale.board")
    calls = [
        (lambda server=server: _csv_rows(board, f"{server}/api/v1/risks/?format=csv"))
        for server in SERVERS
    ]
    calls += [
        (lambda server=server: _csv_rows(board, f"{server}/api/v1/triggers/?format=csv"))
        for server in SERVERS
    ]
    # Identical but for the links, which name the server that answered.
    register_a, register_b, triggers_a, triggers_b = (
        [[cell.replace(server, "") for cell in row] for row in rows]
        for rows, server in zip(together(calls), SERVERS * 2, strict=True)
    )
    assert len(register_a) == len(register_b) == risks + 1  # and the header
    header = register_a[0]
    differences = [
        {name: (x, y) for name, x, y in zip(header, a, b, strict=True) if x != y}
        for a, b in zip(register_a, register_b, strict=True)
        if a != b
    ]
    assert not differences, differences[:3]
    assert triggers_a == triggers_b


def test_the_trigger_log_verifies_through_pgbouncer():
    board = api("scale.board")
    entries = len(_csv_rows(board, f"{A}/api/v1/triggers/?format=csv")) - 1
    heads = set()
    for server in SERVERS:
        report = board.get(f"{server}/api/v1/triggers/verify/", timeout=TIMEOUT)
        assert report.status_code == HTTPStatus.OK, report.text[:300]
        assert (report.json()["ok"], report.json()["checked"]) == (True, entries)
        heads.add(report.json()["head_hash"])
    assert len(heads) == 1

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TRIGGER_LOG_SIGNING_KEY_FILE": os.environ["SCALE_SIGNING_KEY"]}
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_trigger_log"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Trigger log intact: {entries} entries checked." in result.stdout
    assert heads.pop() in result.stdout
