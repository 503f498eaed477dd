"""Trigger log emails never drop silently (issue 12): a subject is one line whatever the risk's
title holds, and a send that fails after its retries is recorded and shown to the Board."""

from __future__ import annotations

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from risks.models import NotificationFailure, Risk
from risks.services import contingency_invoke
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db

TEXT = {"reason": "Violence displaced across the border.", "authorised_by": "Director"}


class FlakyBackend(BaseEmailBackend):
    """Fails the first `failures` sends, then delivers."""

    failures = 0
    calls = 0

    def send_messages(self, email_messages):
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise ConnectionRefusedError("The mail server is down.")
        return len(email_messages)


@pytest.fixture
def flaky(settings, monkeypatch):
    monkeypatch.setattr("risks.notifications.RETRY_DELAYS", (0, 0))
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.calls = 0
    return FlakyBackend


def test_a_title_with_newlines_still_sends_a_one_line_subject(
    staff_member, board_member, mailoutbox, django_capture_on_commit_callbacks
):
    # Every form, the API and the import refuse line breaks in a title (common/text.py); a row
    # written straight into the database, or before that rule, must still send one line.
    risk = RiskFactory(code="R3")
    title = "Cartel violence\r\nBcc: everyone@example.com\nspreads"
    type(risk).objects.filter(pk=risk.pk).update(title=title)
    risk.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        contingency_invoke(risk=risk, user=staff_member, **TEXT)
    assert len(mailoutbox) == 1
    subject = mailoutbox[0].subject
    assert "\n" not in subject and "\r" not in subject
    assert subject.endswith("Cartel violence Bcc: everyone@example.com spreads")
    assert mailoutbox[0].bcc == []
    assert not NotificationFailure.objects.exists()


def test_a_send_that_fails_once_is_retried(
    flaky, staff_member, board_member, django_capture_on_commit_callbacks
):
    flaky.failures = 1
    with django_capture_on_commit_callbacks(execute=True):
        contingency_invoke(risk=RiskFactory(code="R3"), user=staff_member, **TEXT)
    assert flaky.calls == 2
    assert not NotificationFailure.objects.exists()


def test_a_send_that_fails_every_retry_is_shown_on_the_dashboard(
    flaky, staff_member, board_member, client, django_capture_on_commit_callbacks
):
    flaky.failures = 99
    with django_capture_on_commit_callbacks(execute=True):
        entry = contingency_invoke(risk=RiskFactory(code="R3"), user=staff_member, **TEXT)

    assert flaky.calls == 3
    failure = NotificationFailure.objects.get()
    assert (failure.entry, failure.attempts) == (entry, 3)
    assert "The mail server is down." in failure.error
    assert board_member.email in failure.recipients
    assert Risk.objects.get(code="R3").status == Risk.Status.CONTINGENCY_ACTIVE

    client.force_login(board_member)
    page = client.get("/").content.decode()
    assert "Notifications not delivered" in page
    assert f"#{entry.sequence} Contingency invoked: notification not delivered" in page


def test_nobody_to_tell_is_recorded_too(staff_member, django_capture_on_commit_callbacks):
    risk = RiskFactory(code="R3")
    risk.owner_agency.contact_emails = ""
    risk.owner_agency.save()
    with django_capture_on_commit_callbacks(execute=True):
        contingency_invoke(risk=risk, user=staff_member, **TEXT)
    assert "Nobody to notify" in NotificationFailure.objects.get().error


def test_the_dashboard_says_nothing_when_every_email_went(board_member, client):
    client.force_login(board_member)
    assert "Notifications not delivered" not in client.get("/").content.decode()
