"""The register's admin, as the risk staff use it every day."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from risks.models import (
    Assessment,
    BoardReview,
    IndicatorBreach,
    MitigationAction,
    NotificationFailure,
    RatingBand,
    Reminder,
    ReviewSnapshot,
    Risk,
    RiskAcceptance,
    TriggerEntry,
)
from risks.services import risk_close, risk_update
from roadmap.models import Metric
from roadmap.services import metric_reading_record
from tests.factories import (
    AgencyFactory,
    IndicatorFactory,
    MitigationActionFactory,
    PhaseFactory,
    RiskFactory,
    TriggerEntryFactory,
)

pytestmark = pytest.mark.django_db

SNAPSHOT_FIELDS = (
    "likelihood",
    "impact",
    "score",
    "target_likelihood",
    "target_impact",
    "status",
    "confidence",
    "next_review_due",
)
RISK_MODELS = [model for model in admin.site._registry if model._meta.app_label == "risks"]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:risks_{model._meta.model_name}_{view}", args=args)


def form_data(response) -> dict:
    """What the browser would post back from an admin change form, untouched."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is not None:
                data[form.add_prefix(name)] = value
    return data


@pytest.fixture
def register(db):
    """One of everything, rated so that two risks are Critical."""
    agency = AgencyFactory(code="ONDCP")
    phase = PhaseFactory(number=1)
    r1 = RiskFactory(code="R1", likelihood=5, impact=5, owner_agency=agency, phases=[phase])
    RiskFactory(code="R2", likelihood=3, impact=3, owner_agency=agency)
    RiskFactory(code="R4", likelihood=4, impact=5, owner_agency=agency)
    MitigationActionFactory(risk=r1)
    return r1


@pytest.fixture
def staff_admin(client, staff_member):
    client.force_login(staff_member)
    return client


@pytest.fixture
def seeded(seed, staff_member):
    """The seed, plus what it does not hold: a contingency in the log and a breached indicator."""
    indicator = IndicatorFactory(risk=Risk.objects.get(code="R3"), metric=Metric.objects.first())
    metric_reading_record(
        metric=indicator.metric,
        observed_on=datetime.date(2027, 1, 31),
        value=indicator.threshold + 1,
        source="Field report",
        user=staff_member,
    )
    r1 = Risk.objects.get(code="R1")
    entry = TriggerEntryFactory(risk=r1, recorded_by=staff_member)
    NotificationFailure.objects.create(entry=entry, attempts=3, error="Mail server down.")
    # No review services yet: the board's records are written directly, as they would stand.
    review = BoardReview.objects.create(
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 15),
        attendees="Chair, ONDCP",
        status=BoardReview.Status.FINAL,
        finalised_at=timezone.now(),
        created_by=staff_member,
    )
    ReviewSnapshot.objects.create(
        review=review,
        risk=r1,
        **{field: getattr(r1, field) for field in SNAPSHOT_FIELDS},
    )
    RiskAcceptance.objects.create(
        risk=r1,
        review=review,
        accepted_by=staff_member,
        accepted_on=datetime.date(2027, 3, 15),
        expires_on=datetime.date(2027, 9, 15),
        rationale="Within appetite once the hearing is past.",
    )
    Reminder.objects.create(
        recipient="risk@ondcp.example.gov",
        kind=Reminder.Kind.REVIEW_OVERDUE,
        item=f"risk:{r1.pk}",
        risk=r1,
        due_on=r1.next_review_due,
        sent_on=timezone.localdate(),
        status=Reminder.Status.FAILED,
        error="SMTPRecipientsRefused",
    )


@pytest.mark.parametrize("model", RISK_MODELS, ids=lambda m: m._meta.model_name)
def test_every_register_page_renders_for_staff(staff_admin, staff_member, rf, seeded, model):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = staff_member
    # The chain head is for administrators only; every other page is part of Staff's day.
    expected = HTTPStatus.OK if model_admin.has_view_permission(request) else HTTPStatus.FORBIDDEN

    assert staff_admin.get(url(model, "changelist")).status_code == expected
    obj = model.objects.first()
    assert staff_admin.get(url(model, "change", obj.pk)).status_code == expected
    if model_admin.has_add_permission(request):
        assert staff_admin.get(url(model, "add")).status_code == HTTPStatus.OK


def test_risk_history_shows_the_changes(staff_admin, register):
    response = staff_admin.get(url(Risk, "history", register.pk))
    assert response.status_code == HTTPStatus.OK


def test_changelist_queries_do_not_grow_with_the_register(staff_admin):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_admin.get(url(Risk, "changelist")).status_code == HTTPStatus.OK
        return len(queries)

    RiskFactory.create_batch(3)
    count_queries()  # the rating scale is read once a process (its own version)
    few = count_queries()
    RiskFactory.create_batch(17)
    assert count_queries() == few


def test_rating_filter_and_search(staff_admin, register):
    critical = staff_admin.get(url(Risk, "changelist"), {"rating": "Critical"})
    assert [risk.code for risk in critical.context["cl"].result_list] == ["R1", "R4"]

    found = staff_admin.get(url(Risk, "changelist"), {"q": "R2"})
    assert [risk.code for risk in found.context["cl"].result_list] == ["R2"]


def test_rating_filter_and_search_with_the_seed(staff_admin, seed):
    critical = staff_admin.get(url(Risk, "changelist"), {"rating": "Critical"})
    assert [risk.code for risk in critical.context["cl"].result_list] == ["R1", "R4"]
    found = staff_admin.get(url(Risk, "changelist"), {"q": "R1"})
    assert [risk.code for risk in found.context["cl"].result_list] == ["R1"]


def test_changelist_shows_the_band_name_beside_its_colour_and_marks_overdue(staff_admin):
    RiskFactory(code="R9", likelihood=5, impact=5, next_review_due=datetime.date(2020, 1, 1))
    response = staff_admin.get(url(Risk, "changelist"))
    assert "#b71c1c" in response.text
    assert ">Critical</span>" in response.text
    assert '<span class="nowrap">1 Jan 2020</span> <strong' in response.text


def test_rerating_records_an_assessment_by_the_user(staff_admin, staff_member, register):
    data = form_data(staff_admin.get(url(Risk, "change", register.pk)))
    data.update(likelihood=4, impact=3, confidence="high", rationale="Funding was restored.")

    response = staff_admin.post(url(Risk, "change", register.pk), data)

    assert response.status_code == HTTPStatus.FOUND
    register.refresh_from_db()
    assert (register.likelihood, register.impact, register.score) == (4, 3, 12)
    latest = register.assessments.latest()
    assert latest.rationale == "Funding was restored."
    assert latest.assessed_by == staff_member
    assert (latest.likelihood, latest.impact, latest.confidence) == (4, 3, "high")
    assert register.history.first().history_user == staff_member


def test_rerating_without_rationale_changes_nothing(staff_admin, register):
    data = form_data(staff_admin.get(url(Risk, "change", register.pk)))
    data.update(likelihood=1, impact=1, title="Renamed")

    response = staff_admin.post(url(Risk, "change", register.pk), data)

    assert response.status_code == HTTPStatus.OK
    assert "Give the rationale for the new rating." in response.text
    register.refresh_from_db()
    assert (register.likelihood, register.impact, register.score) == (5, 5, 25)
    assert register.title != "Renamed"
    assert register.assessments.count() == 1


def test_editing_other_fields_needs_no_rationale_nor_assessment(staff_admin, register):
    data = form_data(staff_admin.get(url(Risk, "change", register.pk)))
    data.update(owner="John Roe")

    assert staff_admin.post(url(Risk, "change", register.pk), data).status_code == HTTPStatus.FOUND
    register.refresh_from_db()
    assert register.owner == "John Roe"
    assert register.assessments.count() == 1


def test_a_save_from_an_out_of_date_page_is_refused(staff_admin, staff_member, register):
    data = form_data(staff_admin.get(url(Risk, "change", register.pk)))
    risk_update(risk=register, user=staff_member, owner="Someone Else")  # meanwhile
    data.update(title="Stale title", likelihood=1, rationale="Based on what I saw.")

    response = staff_admin.post(url(Risk, "change", register.pk), data)

    assert response.status_code == HTTPStatus.OK
    assert "Reload it and apply your change again." in response.text
    register.refresh_from_db()
    assert register.title != "Stale title"
    assert (register.owner, register.likelihood) == ("Someone Else", 5)
    assert register.assessments.count() == 1


def test_a_rationale_alone_records_a_review_that_confirms_the_rating(staff_admin, register):
    data = form_data(staff_admin.get(url(Risk, "change", register.pk)))
    data["rationale"] = "Reviewed; nothing has moved."

    assert staff_admin.post(url(Risk, "change", register.pk), data).status_code == HTTPStatus.FOUND
    latest = register.assessments.latest()
    assert (latest.score, latest.rationale) == (25, "Reviewed; nothing has moved.")
    assert register.assessments.count() == 2


def test_adding_a_risk_records_its_first_assessment(staff_admin, staff_member, register):
    data = form_data(staff_admin.get(url(Risk, "add")))
    data.update(
        code="R9",
        title="New risk",
        statement="Cause, event, consequence.",
        category="security",
        owner="Jane Doe",
        owner_agency=register.owner_agency_id,
        likelihood=2,
        impact=4,
        target_likelihood=1,
        target_impact=2,
        mitigation_strategy="Reduce.",
        contingency_plan="Respond.",
    )
    assert "rationale" in staff_admin.post(url(Risk, "add"), data).context["adminform"].form.errors

    data["rationale"] = "Identified at the quarterly review."
    data.update(
        {
            "mitigations-TOTAL_FORMS": 1,
            "mitigations-0-title": "Brief the committee",
            "mitigations-0-owner_agency": register.owner_agency_id,
            "mitigations-0-due_date": (timezone.localdate() + datetime.timedelta(30)).isoformat(),
            "mitigations-0-status": "planned",
            "mitigations-0-percent_complete": 0,
        }
    )
    assert staff_admin.post(url(Risk, "add"), data).status_code == HTTPStatus.FOUND
    risk = Risk.objects.get(code="R9")
    assert risk.score == 8
    assessment = risk.assessments.get()
    assert (assessment.assessed_by, assessment.rationale) == (staff_member, data["rationale"])
    assert risk.mitigations.get().title == "Brief the committee"


def test_status_offers_neither_closed_nor_contingency(staff_admin, register):
    form = staff_admin.get(url(Risk, "change", register.pk)).context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == ["open", "monitoring"]

    register.status = Risk.Status.CONTINGENCY_ACTIVE
    register.save()
    form = staff_admin.get(url(Risk, "change", register.pk)).context["adminform"].form
    assert "status" not in form.fields


def test_a_closed_risk_keeps_its_rating_read_only(staff_admin, staff_member, register):
    risk_close(risk=register, reason="Legislation passed.", user=staff_member)
    response = staff_admin.get(url(Risk, "change", register.pk))
    form = response.context["adminform"].form
    assert not {"likelihood", "impact", "rationale", "status"} & set(form.fields)

    data = form_data(response)
    data.update(owner="John Roe")
    assert staff_admin.post(url(Risk, "change", register.pk), data).status_code == HTTPStatus.FOUND
    register.refresh_from_db()
    assert (register.owner, register.status) == ("John Roe", Risk.Status.CLOSED)


def test_a_mitigation_added_inline_goes_through_the_service(staff_admin, register):
    data = form_data(staff_admin.get(url(Risk, "change", register.pk)))
    prefix = "mitigations"
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    new = {
        "title": "Brief the committee",
        "owner_agency": register.owner_agency_id,
        "due_date": (timezone.localdate() + datetime.timedelta(30)).isoformat(),
        "status": "planned",
        "percent_complete": 0,
    }
    data.update({f"{prefix}-{total}-{name}": value for name, value in new.items()})
    data[f"{prefix}-TOTAL_FORMS"] = total + 1

    assert staff_admin.post(url(Risk, "change", register.pk), data).status_code == HTTPStatus.FOUND
    assert register.mitigations.filter(title="Brief the committee").exists()


def test_a_service_refusal_is_shown_on_the_form_and_saves_nothing(staff_admin, register):
    mitigation = register.mitigations.get()
    data = form_data(staff_admin.get(url(MitigationAction, "change", mitigation.pk)))
    data.update(title="Backdated", due_date="2000-01-01")

    response = staff_admin.post(url(MitigationAction, "change", mitigation.pk), data)

    assert response.status_code == HTTPStatus.OK
    assert "before the risk was recorded" in response.text
    mitigation.refresh_from_db()
    assert mitigation.title != "Backdated"


def test_assessments_cannot_be_added_or_changed_in_the_admin(staff_admin, register):
    assessment = Assessment.objects.filter(risk=register).first()
    assert staff_admin.get(url(Assessment, "add")).status_code == HTTPStatus.FORBIDDEN
    response = staff_admin.post(url(Assessment, "change", assessment.pk), {"rationale": "x"})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_staff_cannot_delete_a_risk(staff_admin, register):
    assert staff_admin.get(url(Risk, "delete", register.pk)).status_code == HTTPStatus.FORBIDDEN
    assert staff_admin.post(url(Risk, "delete", register.pk)).status_code == HTTPStatus.FORBIDDEN
    assert Risk.objects.filter(pk=register.pk).exists()


def test_staff_cannot_change_the_rating_scale(staff_admin):
    band = RatingBand.objects.get(name="Critical")
    response = staff_admin.post(url(RatingBand, "change", band.pk), {"name": "Severe"})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_auditor_can_view_but_not_change(client, auditor, register):
    client.force_login(auditor)
    assert client.get(url(Risk, "change", register.pk)).status_code == HTTPStatus.OK
    response = client.post(url(Risk, "change", register.pk), {"title": "Changed"})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_board_member_is_sent_to_the_admin_login(client, board_member):
    client.force_login(board_member)
    response = client.get(url(Risk, "changelist"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_trigger_entry_added_in_the_admin_invokes_the_contingency(
    staff_admin, staff_member, register
):
    page = staff_admin.get(url(Risk, "change", register.pk))
    assert f"{url(TriggerEntry, 'add')}?risk={register.pk}" in page.text
    data = {"risk": register.pk, "kind": "invoked", "reason": "Trigger condition met."}

    assert staff_admin.post(url(TriggerEntry, "add"), data).status_code == HTTPStatus.FOUND
    register.refresh_from_db()
    assert register.status == Risk.Status.CONTINGENCY_ACTIVE
    entry = TriggerEntry.objects.get()
    assert (entry.risk, entry.recorded_by, entry.sequence) == (register, staff_member, 1)


def test_standing_down_without_a_contingency_is_refused_on_the_form(staff_admin, register):
    data = {"risk": register.pk, "kind": "stood_down", "reason": "All clear."}

    response = staff_admin.post(url(TriggerEntry, "add"), data)

    assert response.status_code == HTTPStatus.OK
    assert f"No contingency is active for {register.code}." in response.text
    assert not TriggerEntry.objects.exists()


def test_trigger_entries_are_never_changed_nor_deleted(staff_admin, staff_member, register):
    entry = TriggerEntryFactory(risk=register, recorded_by=staff_member)
    log = staff_admin.get(url(TriggerEntry, "changelist"), {"risk__id__exact": register.pk})
    assert list(log.context["cl"].result_list) == [entry]
    assert staff_admin.get(url(TriggerEntry, "change", entry.pk)).status_code == HTTPStatus.OK
    changed = staff_admin.post(url(TriggerEntry, "change", entry.pk), {"reason": "Rewritten"})
    assert changed.status_code == HTTPStatus.FORBIDDEN
    deleted = staff_admin.post(url(TriggerEntry, "delete", entry.pk), {"post": "yes"})
    assert deleted.status_code == HTTPStatus.FORBIDDEN


def test_a_breach_is_dismissed_with_a_reason(staff_admin, staff_member, register):
    indicator = IndicatorFactory(risk=register, threshold=10)
    metric_reading_record(
        metric=indicator.metric,
        observed_on=datetime.date(2027, 1, 31),
        value=11,
        source="Field report",
        user=staff_member,
    )
    breach = IndicatorBreach.objects.get()
    data = {"resolution_reason": "A reporting error, corrected next month."}

    response = staff_admin.post(url(IndicatorBreach, "change", breach.pk), data)

    assert response.status_code == HTTPStatus.FOUND
    breach.refresh_from_db()
    assert (breach.status, breach.resolved_by) == ("dismissed", staff_member)


def test_the_risk_list_offers_no_bulk_delete(client, register):
    """A risk is closed, never deleted: its assessments protect it, so the list offers no
    bulk action (and no checkbox column), even to a superuser."""
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 16)
    client.force_login(admin)
    response = client.get(url(Risk, "changelist"))
    assert response.status_code == HTTPStatus.OK
    assert response.context["action_form"] is None
    assert b'name="_selected_action"' not in response.content
