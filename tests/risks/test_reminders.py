"""send_reminders: one digest per owner, the board secretary's weekly summary, idempotent per
day, every send recorded and every failure recorded and shown."""

from __future__ import annotations

import datetime
import io
from http import HTTPStatus

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.utils import timezone

from risks.models import Reminder
from risks.services import review_create, risk_accept
from tests.factories import AgencyFactory, MitigationActionFactory, RiskFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("[Errno 111] Connection refused")


@pytest.fixture
def register(settings, board_member):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.BOARD_SECRETARY_EMAIL = ["secretary@board.example.gov"]
    settings.SITE_URL = "https://risks.example.gov"
    state = AgencyFactory(code="STATE", contact_emails="risk@state.example.gov\nops@state.gov")
    overdue = RiskFactory(
        code="R1",
        title="Funding lapses",
        next_review_due=days(-10),
        owner_email="owner.r1@ondcp.example.gov",
    )
    due = RiskFactory(code="R2", owner_agency=state, next_review_due=days(5))
    RiskFactory(code="R3", next_review_due=days(40), owner_email="later@example.gov")
    MitigationActionFactory(risk=due, title="Brief the committee", due_date=days(-3))
    MitigationActionFactory(
        risk=due, title="Done already", due_date=days(-3), status="done", percent_complete=100
    )
    accepted = RiskFactory(
        code="R4", response="accept", owner_email="r4@example.gov", next_review_due=days(90)
    )
    review = review_create(
        user=board_member, quarter="2026-Q4", meeting_date=days(-20), attendees="Chair (ONDCP)"
    )
    risk_accept(
        review=review, risk=accepted, user=board_member, rationale="Tolerable.", expires_on=days(20)
    )
    return {"overdue": overdue, "due": due}


def run(**kwargs) -> str:
    out = io.StringIO()
    call_command("send_reminders", stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def test_one_digest_per_recipient_with_each_kind_of_reminder(register):
    output = run()

    (r1,) = to("owner.r1@ondcp.example.gov")
    assert "Reviews overdue (1)" in r1.body
    assert "R1 Funding lapses: review was due" in r1.body
    assert "https://risks.example.gov/risks/R1/" in r1.body
    # R2 has no owner email: its agency's contacts get it, each one digest.
    for address in ("risk@state.example.gov", "ops@state.gov"):
        (digest,) = to(address)
        assert "Reviews due within 14 days (1)" in digest.body
        assert f"review due {days(5):%Y-%m-%d}" in digest.body
        assert "Mitigation actions past due (1)" in digest.body
        assert "Brief the committee" in digest.body
        assert "Done already" not in digest.body
        assert digest.subject == f"[Risk register] 2 reminders for {TODAY}"
    (r4,) = to("r4@example.gov")
    assert "Acceptances expiring within 30 days (1)" in r4.body
    assert not to("later@example.gov")  # due in 40 days: nothing yet
    (summary,) = to("secretary@board.example.gov")
    assert "Weekly summary" in summary.subject
    assert "Reviews overdue: 1" in summary.body and "R1 Funding lapses" in summary.body
    assert "Mitigation actions past due: 1" in summary.body
    assert len(mail.outbox) == 5
    assert "Sent 5 email(s) with 7 reminder(s)" in output
    assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == 7


def test_running_twice_the_same_day_sends_nothing_new(register):
    run()
    sent = len(mail.outbox)
    rows = Reminder.objects.count()

    output = run()

    assert len(mail.outbox) == sent
    assert Reminder.objects.count() == rows
    assert "Sent 0 email(s) with 0 reminder(s)" in output and "7 already sent today" in output


def test_a_new_item_the_same_day_is_sent_alone(register):
    run()
    RiskFactory(code="R9", next_review_due=days(-1), owner_email="owner.r1@ondcp.example.gov")
    mail.outbox.clear()

    run()

    (digest,) = mail.outbox
    assert "R9" in digest.body and "R1 " not in digest.body


def test_dashboard_counts_the_days_reminded_since_due(register, client, board_member):
    run()
    overdue = register["overdue"]
    for n in (1, 2):  # two earlier days' runs
        Reminder.objects.create(
            recipient="owner.r1@ondcp.example.gov",
            kind=Reminder.Kind.REVIEW_OVERDUE,
            item=f"risk:{overdue.pk}",
            risk=overdue,
            due_on=overdue.next_review_due,
            sent_on=days(-n),
            status=Reminder.Status.SENT,
        )
    client.force_login(board_member)

    page = client.get("/").content.decode()

    assert "reminded 3 times since due" in page


def test_a_failure_is_recorded_shown_and_retried(register, settings, client, board_member):
    settings.EMAIL_BACKEND = "tests.risks.test_reminders.RefusingBackend"

    with pytest.raises(CommandError, match="not delivered"):
        run()

    failed = Reminder.objects.filter(status=Reminder.Status.FAILED)
    assert failed.count() == 7  # 6 items (to their recipients) and the summary
    assert not Reminder.objects.filter(status=Reminder.Status.SENT).exists()
    assert set(failed.values_list("error", flat=True)) == {
        "ConnectionRefusedError: [Errno 111] Connection refused"
    }
    # A second failing run keeps one failed row per item and recipient a day.
    with pytest.raises(CommandError):
        run()
    assert failed.count() == 7

    client.force_login(board_member)
    page = client.get("/").content.decode()
    assert "Reminders not delivered" in page
    assert "Connection refused" in page and "owner.r1@ondcp.example.gov" in page

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/risks/reminder/?status__exact=failed")
    assert listing.status_code == HTTPStatus.OK
    assert "Connection refused" in listing.content.decode()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run()  # the mail server is back: everything goes out, and the failures are made good
    assert len(mail.outbox) == 5
    client.force_login(board_member)
    assert "Reminders not delivered" not in client.get("/").content.decode()


def test_nobody_to_remind_is_a_recorded_failure_until_someone_is(register, client, board_member):
    AgencyFactory(code="DEA", contact_emails="")
    r7 = RiskFactory(code="R7", owner_agency=AgencyFactory(code="DEA"), next_review_due=days(-1))

    with pytest.raises(CommandError):
        run()

    failure = Reminder.objects.get(status=Reminder.Status.FAILED)
    assert failure.recipient == "" and failure.risk.code == "R7"
    assert "R7 has no owner email and DEA has no contact address" in failure.error
    client.force_login(board_member)
    assert "DEA has no contact address" in client.get("/").content.decode()

    r7.owner_email = "r7@dea.example.gov"
    r7.save()
    run()

    assert len(to("r7@dea.example.gov")) == 1
    assert "DEA has no contact address" not in client.get("/").content.decode()


def test_the_weekly_summary_goes_once_a_week(register):
    run()
    Reminder.objects.filter(kind=Reminder.Kind.BOARD_SUMMARY).update(
        sent_on=TODAY - datetime.timedelta(days=TODAY.weekday())  # sent on this week's Monday
    )
    mail.outbox.clear()
    Reminder.objects.exclude(kind=Reminder.Kind.BOARD_SUMMARY).delete()

    run()

    assert not to("secretary@board.example.gov")
    assert len(mail.outbox) == 4


def test_owner_email_is_editable_in_the_admin(register, client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)

    page = client.get(f"/admin/risks/risk/{register['due'].pk}/change/").content.decode()

    assert 'name="owner_email"' in page


def test_dry_run_sends_and_records_nothing(register):
    output = run(dry_run=True)

    assert "Would send 4 email(s) with 6 reminder(s)" in output
    assert not mail.outbox and not Reminder.objects.exists()
