"""Property: for any sequence of edits over several days, `as_of=D` shows exactly what the
live register showed at the end of day D, through the API and through the pages.

A hypothesis state machine edits two risks through the services (ratings, owner, agencies,
frequency, mitigations and their progress, closure), moving a frozen clock forward. At the
end of each day it captures the live API rows and the risk pages; after every step it
checks that `as_of` for each captured day gives the same thing. Derandomised: CI repeats it.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from risks.models import MitigationAction, Risk
from risks.services import (
    mitigation_create,
    mitigation_update,
    risk_assess,
    risk_close,
    risk_create,
    risk_update,
)
from tests.factories import AgencyFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

START = datetime.datetime(2026, 5, 4, 9, tzinfo=datetime.UTC)
levels = st.integers(min_value=1, max_value=5)
# Fields that say when the row was read rather than what the record was.
VOLATILE = {"links"}


def _page_state(client: Client, code: str, day: datetime.date | None) -> dict:
    params = {"as_of": day.isoformat()} if day else {}
    response = client.get(reverse("risks:detail", args=[code]), params)
    if response.status_code == 404:
        return {}
    page = response.context["page"]
    risk = page.risk
    return {
        "score": risk.score,
        "status": risk.status,
        "owner": risk.owner,
        "next_review_due": risk.next_review_due,
        "overdue": page.overdue,
        "supporting": sorted(a.code for a in page.supporting),
        "assessments": [(a.likelihood, a.impact) for a in page.assessments],
        "mitigations": sorted((m.title, m.status, m.percent_complete) for m in page.mitigations),
    }


class AsOfMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.clock = START
        self.traveller = time_machine.travel(self.clock, tick=False)
        self.traveller.start()
        self.user = UserFactory(username="prop.staff", is_staff=True, groups=["Staff"])
        self.agencies = [AgencyFactory(code=code) for code in ("ONDCP", "STATE", "USAID")]
        self.api = Client()
        self.api.force_login(self.user)
        self.captured: dict[datetime.date, tuple[dict, dict]] = {}
        self.risks: list[str] = []
        for code in ("P1", "P2"):
            self._create(code)

    def teardown(self):
        self.traveller.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- the clock --------------------------------------------------------------------

    def _tick(self) -> None:
        self.traveller.stop()
        self.clock += datetime.timedelta(minutes=7)
        self.traveller = time_machine.travel(self.clock, tick=False)
        self.traveller.start()

    def _signed_in(self) -> Client:
        # The session idles out when the clock jumps days: sign in again at the current time.
        self.api.force_login(self.user)
        return self.api

    def _live(self) -> tuple[dict, dict]:
        self._signed_in()
        response = self.api.get(reverse("api:risk-list"))
        rows = {
            row["code"]: {k: v for k, v in row.items() if k not in VOLATILE}
            for row in response.json()["results"]
        }
        pages = {code: _page_state(self.api, code, None) for code in self.risks}
        return rows, pages

    def _create(self, code: str) -> None:
        risk_create(
            user=self.user,
            rationale="First rating.",
            code=code,
            title=f"Risk {code}",
            statement="Because, so that.",
            category=Risk.Category.POLITICAL,
            owner="Ann",
            owner_agency=self.agencies[0],
            likelihood=3,
            impact=3,
            target_likelihood=1,
            target_impact=1,
            mitigation_strategy="Reduce.",
            contingency_plan="Respond.",
        )
        self.risks.append(code)
        self._tick()

    def _open(self, index: int) -> Risk | None:
        risk = Risk.objects.get(code=self.risks[index % len(self.risks)])
        return None if risk.status == Risk.Status.CLOSED else risk

    # --- edits ------------------------------------------------------------------------

    @rule(index=st.integers(0, 1), likelihood=levels, impact=levels)
    def assess(self, index, likelihood, impact):
        if risk := self._open(index):
            risk_assess(
                risk=risk,
                likelihood=likelihood,
                impact=impact,
                rationale="Re-rated.",
                user=self.user,
            )
        self._tick()

    @rule(index=st.integers(0, 1), owner=st.sampled_from(["Bob", "Cy", "Dee"]))
    def change_owner(self, index, owner):
        if risk := self._open(index):
            risk_update(risk=risk, user=self.user, owner=owner)
        self._tick()

    @rule(index=st.integers(0, 1), picks=st.sets(st.integers(1, 2)))
    def set_agencies(self, index, picks):
        if risk := self._open(index):
            chosen = [self.agencies[i] for i in sorted(picks)]
            risk_update(risk=risk, user=self.user, supporting_agencies=chosen)
        self._tick()

    @rule(index=st.integers(0, 1), days=st.sampled_from([None, 1, 3, 30]))
    def change_frequency(self, index, days):
        if risk := self._open(index):
            risk_update(risk=risk, user=self.user, review_frequency_days=days)
        self._tick()

    @rule(index=st.integers(0, 1))
    def add_mitigation(self, index):
        if risk := self._open(index):
            mitigation_create(
                user=self.user,
                risk=risk,
                title=f"Action {MitigationAction.objects.count() + 1}",
                owner_agency=self.agencies[1],
                due_date=self.clock.date() + datetime.timedelta(days=10),
            )
        self._tick()

    @rule(percent=st.integers(0, 100))
    def progress(self, percent):
        mitigation = MitigationAction.objects.order_by("-id").first()
        if mitigation is not None:
            status = (
                MitigationAction.Status.DONE
                if percent == 100
                else MitigationAction.Status.IN_PROGRESS
            )
            mitigation_update(
                mitigation=mitigation, user=self.user, percent_complete=percent, status=status
            )
        self._tick()

    @precondition(lambda self: len(self.risks) < 3)
    @rule()
    def create_third(self):
        self._create("P3")

    @rule(index=st.integers(0, 2))
    def close(self, index):
        if risk := self._open(index):
            risk_close(risk=risk, reason="Resolved.", user=self.user)
        self._tick()

    @rule(days=st.integers(1, 3))
    def end_of_day(self, days):
        """Capture the day as the live register shows it, then move to a later morning."""
        self.captured[self.clock.date()] = self._live()
        self.traveller.stop()
        self.clock = datetime.datetime.combine(
            self.clock.date() + datetime.timedelta(days=days), datetime.time(9), datetime.UTC
        )
        self.traveller = time_machine.travel(self.clock, tick=False)
        self.traveller.start()

    # --- the property ----------------------------------------------------------------

    @invariant()
    def as_of_equals_what_the_day_showed(self):
        self._signed_in()
        for day, (rows, pages) in self.captured.items():
            response = self.api.get(reverse("api:risk-list"), {"as_of": day.isoformat()})
            past = {
                row["code"]: {k: v for k, v in row.items() if k not in VOLATILE}
                for row in response.json()["results"]
            }
            assert past == rows, day
            for code, state in pages.items():
                assert _page_state(self.api, code, day) == state, (day, code)


def test_as_of_replays_every_day_exactly():
    run_state_machine_as_test(
        AsOfMachine,
        settings=settings(
            max_examples=8,
            stateful_step_count=14,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            # No shrinking: a failure prints its steps as they ran, without minutes of retries.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )
