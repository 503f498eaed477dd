"""Invoking, updating and standing down a risk's contingency through the services."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.utils import timezone

from risks import services
from risks.models import Risk, TriggerEntry
from risks.services import (
    StateConflict,
    contingency_invoke,
    contingency_stand_down,
    contingency_update,
)
from tests.factories import AgencyFactory, RiskFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = {
    "reason": "Cartel violence displaced across the border.",
    "evidence": "Two consulates report a 40% rise in incidents.",
    "actions_taken": "Bilateral working group convened.",
    "authorised_by": "Director, ONDCP",
}


@pytest.fixture
def risk():
    return RiskFactory(code="R3", status=Risk.Status.MONITORING)


def test_invoke_activates_the_contingency_and_remembers_the_status(risk, staff_member):
    entry = contingency_invoke(risk=risk, user=staff_member, **TEXT)

    risk.refresh_from_db()
    assert risk.status == Risk.Status.CONTINGENCY_ACTIVE
    assert entry.kind == TriggerEntry.Kind.INVOKED
    assert entry.previous_status == Risk.Status.MONITORING
    assert entry.recorded_by == staff_member
    assert (entry.reason, entry.authorised_by) == (TEXT["reason"], TEXT["authorised_by"])


def test_stand_down_restores_the_status_before_invoking(risk, staff_member):
    contingency_invoke(risk=risk, user=staff_member, **TEXT)
    contingency_update(risk=risk, user=staff_member, reason="Working group met twice.")
    contingency_stand_down(risk=risk, user=staff_member, reason="Incidents back to baseline.")

    risk.refresh_from_db()
    assert risk.status == Risk.Status.MONITORING
    assert list(risk.trigger_entries.values_list("kind", flat=True)) == [
        "invoked",
        "update",
        "stood_down",
    ]


def test_invoking_twice_is_a_conflict_and_writes_nothing(risk, staff_member):
    contingency_invoke(risk=risk, user=staff_member, **TEXT)

    with pytest.raises(StateConflict, match="already active"):
        contingency_invoke(risk=risk, user=staff_member, **TEXT)
    assert TriggerEntry.objects.count() == 1


@pytest.mark.parametrize("service", [contingency_stand_down, contingency_update])
def test_nothing_active_to_update_or_stand_down(risk, staff_member, service):
    with pytest.raises(StateConflict, match="No contingency is active"):
        service(risk=risk, user=staff_member, **TEXT)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.MONITORING
    assert not TriggerEntry.objects.exists()


def test_a_closed_risk_cannot_invoke(staff_member):
    closed = RiskFactory(
        status=Risk.Status.CLOSED, closure_reason="Retired.", closed_at=timezone.now()
    )
    with pytest.raises(StateConflict):
        contingency_invoke(risk=closed, user=staff_member, **TEXT)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required_and_nothing_is_written(risk, staff_member, reason):
    with pytest.raises(ValidationError) as error:
        contingency_invoke(risk=risk, user=staff_member, **{**TEXT, "reason": reason})
    assert "reason" in error.value.message_dict
    assert not isinstance(error.value, StateConflict)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.MONITORING
    assert not TriggerEntry.objects.exists()


# --- Notifications ----------------------------------------------------------------------


def test_invoking_emails_the_board_and_the_owner_agency(
    risk, staff_member, board_member, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(username="retired.board", groups=["Board"], is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        contingency_invoke(risk=risk, user=staff_member, **TEXT)

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert "R3" in mail.subject
    assert TEXT["reason"] in mail.body
    assert set(mail.to) == {board_member.email, *risk.owner_agency.contacts}


def test_each_entry_kind_sends_one_email(
    risk, staff_member, board_member, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contingency_invoke(risk=risk, user=staff_member, **TEXT)
        contingency_update(risk=risk, user=staff_member, reason="Progress.")
        contingency_stand_down(risk=risk, user=staff_member, reason="Over.")
    assert len(mailoutbox) == 3


def test_no_email_before_commit_or_for_a_refused_entry(
    risk, staff_member, board_member, mailoutbox
):
    with pytest.raises(StateConflict):
        contingency_stand_down(risk=risk, user=staff_member, **TEXT)
    contingency_invoke(risk=risk, user=staff_member, **TEXT)
    assert mailoutbox == []  # the test's transaction never commits


class ExplodingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("The mail server is down.")


def test_a_failed_email_never_loses_the_entry(
    risk,
    staff_member,
    board_member,
    settings,
    caplog,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    monkeypatch.setattr("risks.notifications.RETRY_DELAYS", (0, 0))
    settings.EMAIL_BACKEND = f"{__name__}.ExplodingBackend"
    risk.owner_agency = AgencyFactory(code="STATE", contact_emails="")

    with django_capture_on_commit_callbacks(execute=True):
        entry = contingency_invoke(risk=risk, user=staff_member, **TEXT)

    assert TriggerEntry.objects.get() == entry
    assert "Could not send the email for trigger log entry #1" in caplog.text


# --- Concurrency (PostgreSQL: SQLite serialises writers anyway) --------------------------


def _slow_hashing(monkeypatch):
    # Hold each writer's locks a moment, so the threads really do wait on each other.
    digest = services.entry_digest

    def slow(entry):
        time.sleep(0.2)
        return digest(entry)

    monkeypatch.setattr(services, "entry_digest", slow)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_invocations_give_exactly_one_entry(monkeypatch, staff_member):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter")
    risk = RiskFactory(code="R1")
    _slow_hashing(monkeypatch)
    barrier, outcomes = threading.Barrier(2), []

    def invoke():
        try:
            barrier.wait()
            contingency_invoke(risk=risk, user=staff_member, **TEXT)
            outcomes.append("invoked")
        except StateConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=invoke) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "invoked"]
    assert TriggerEntry.objects.filter(risk=risk).count() == 1


@pytest.mark.parametrize("write", [contingency_invoke, contingency_update, contingency_stand_down])
def test_a_stale_version_is_refused_before_the_state_and_writes_nothing(risk, staff_member, write):
    if write is not contingency_invoke:
        contingency_invoke(risk=risk, user=staff_member, **TEXT)
    risk.refresh_from_db()
    entries = TriggerEntry.objects.count()
    with pytest.raises(services.StaleEdit):
        write(risk=risk, user=staff_member, expected_version=risk.version - 1, **TEXT)
    assert TriggerEntry.objects.count() == entries
    write(risk=risk, user=staff_member, expected_version=risk.version, **TEXT)  # current: fine
    assert TriggerEntry.objects.count() == entries + 1
