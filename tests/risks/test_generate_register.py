"""generate_register: synthetic risks at scale, consistent with the register's rules."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from common.bulk import load_deferred, rows_insert
from common.calendar import PROGRAMME_START
from common.history import rows_as_of
from risks.models import (
    Assessment,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    Risk,
    TriggerChainHead,
    TriggerEntry,
)
from risks.selectors import trigger_log_verify
from risks.services import contingency_invoke, history_baseline_all
from roadmap.models import MetricReading

pytestmark = pytest.mark.django_db


def generate(risks: int = 30, seed: int = 7) -> None:
    call_command("generate_register", risks=risks, seed=seed, verbosity=0, stdout=None)


def generated() -> list[Risk]:
    return list(Risk.objects.filter(code__startswith="G").order_by("code"))


def register_digest() -> str:
    rows = Risk.objects.filter(code__startswith="G").order_by("code")
    text = "|".join(f"{r.code}:{r.likelihood}x{r.impact}" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def test_generates_risks_with_their_history(seed):
    generate()

    risks = generated()
    assert len(risks) == 30
    assert risks[0].code == "G00001" and risks[-1].code == "G00030"
    assert Risk.objects.filter(code__in=["R1", "R2", "R3", "R4", "R5"]).count() == 5
    assessments = Assessment.objects.filter(risk__code__startswith="G")
    assert 6 * 30 <= assessments.count() <= 14 * 30
    for risk in risks:
        assert risk.score == risk.likelihood * risk.impact
        history = list(risk.assessments.order_by("assessed_at", "id"))
        assert history[0].assessed_at == risk.created_at
        assert [a.assessed_at for a in history] == sorted({a.assessed_at for a in history})
        latest = risk.assessments.latest()
        assert (latest.likelihood, latest.impact) == (risk.likelihood, risk.impact)
        assert latest.assessed_at == risk.last_assessed_at
        mitigations = list(risk.mitigations.all())
        assert 1 <= len(mitigations) <= 4
        assert all(m.due_date >= risk.created_at.date() for m in mitigations)
        if risk.status == Risk.Status.CLOSED:
            assert risk.closure_reason and risk.closed_at and risk.next_review_due is None
    done = MitigationAction.objects.filter(risk__code__startswith="G", status="done")
    assert not done.exclude(percent_complete=100).exists()


def test_trigger_log_stays_a_valid_chain_after_existing_entries(seed, staff_member):
    contingency_invoke(risk=Risk.objects.get(code="R1"), user=staff_member, reason="Stalled.")

    generate(risks=200)

    report = trigger_log_verify()
    assert report.ok, report.message
    assert report.checked == TriggerEntry.objects.count() > 1
    assert TriggerChainHead.objects.get().sequence == report.checked
    call_command("verify_trigger_log", stdout=None)
    for risk in Risk.objects.filter(status=Risk.Status.CONTINGENCY_ACTIVE):
        latest = risk.trigger_entries.order_by("-sequence").first()
        assert latest.kind in (TriggerEntry.Kind.INVOKED, TriggerEntry.Kind.UPDATE)


def test_same_seed_same_register(seed):
    digests = []
    for _ in range(2):
        with transaction.atomic():
            generate()
            digests.append(register_digest())
            transaction.set_rollback(True)
    assert not generated()

    with transaction.atomic():
        generate(seed=8)
        other = register_digest()
        transaction.set_rollback(True)

    assert digests[0] == digests[1]
    assert other != digests[0]


def test_a_second_run_continues_the_codes(seed):
    generate(risks=3)
    generate(risks=2, seed=9)

    assert [r.code for r in generated()] == ["G00001", "G00002", "G00003", "G00004", "G00005"]


def test_needs_the_seed():
    with pytest.raises(CommandError, match="loaddata roadmap"):
        generate()


REASON = "baseline: generate_register --seed 7"


def test_every_generated_record_has_its_dated_baseline(seed):
    generate()

    for risk in generated():
        (row,) = risk.history.all()
        assert (row.history_type, row.history_change_reason) == ("+", REASON)
        assert row.history_user_id is None
        # A risk began at its first assessment (here: when it was created).
        assert row.history_date == risk.assessments.earliest("assessed_at").assessed_at
        assert row.history_date == risk.created_at
        assert (row.code, row.likelihood, row.impact, row.score, row.status) == (
            risk.code, risk.likelihood, risk.impact, risk.score, risk.status,
        )  # fmt: skip
        # The links' snapshot, as simple-history takes it with a saved row.
        assert row.phase_list == list(risk.phases.order_by("pk"))
        assert row.key_action_list == list(risk.key_actions.order_by("pk"))
        assert row.supporting_agency_list == list(risk.supporting_agencies.order_by("pk"))
        for mitigation in risk.mitigations.all():
            (baseline,) = mitigation.history.all()
            assert baseline.history_date == mitigation.created_at
            assert baseline.status == mitigation.status
    start = datetime.datetime.combine(PROGRAMME_START, datetime.time.min, tzinfo=datetime.UTC)
    for indicator in Indicator.objects.filter(risk__code__startswith="G"):
        assert indicator.history.get().history_date == start
    for breach in IndicatorBreach.objects.filter(indicator__risk__code__startswith="G"):
        assert breach.history.get().history_date == breach.detected_at
    readings = MetricReading.objects.filter(source__contains="generate_register")
    assert readings.exists()
    for reading in readings:
        assert reading.history.get().history_date == reading.recorded_at


def test_the_register_as_of_a_day_holds_the_risks_begun_by_then(seed):
    generate()

    risks = generated()
    day = sorted(risk.created_at for risk in risks)[len(risks) // 2]
    codes = set(rows_as_of(Risk, day).filter(code__startswith="G").values_list("code", flat=True))
    assert codes == {risk.code for risk in risks if risk.created_at <= day}


def test_baselines_are_written_once(seed):
    generate()

    assert set(history_baseline_all(reason="again").values()) == {0}


postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="indexes and keys are deferred on PostgreSQL only"
)


def schema() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() ORDER BY 1, 2"
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated "
            "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
            "ORDER BY 1, 2"
        )
        return indexes + cursor.fetchall()


@postgresql
def test_indexes_and_foreign_keys_are_all_back_after_the_load(seed):
    before = schema()

    generate()

    assert schema() == before


@postgresql
def test_a_failed_load_brings_the_indexes_and_keys_back(seed):
    before = schema()

    with pytest.raises(RuntimeError), load_deferred(Assessment, Risk):
        assert schema() != before
        raise RuntimeError

    assert schema() == before


@postgresql
def test_a_row_that_breaks_a_foreign_key_fails_the_load(seed):
    risk = Risk.objects.get(code="R1")
    row = (risk.pk + 10_000, risk.created_at, None, 3, 3, "medium", "No such risk.")
    fields = ("risk_id", "assessed_at", "assessed_by_id", "likelihood", "impact")
    fields += ("confidence", "rationale")

    with pytest.raises(IntegrityError), load_deferred(Assessment):
        rows_insert(Assessment, fields, [row])
