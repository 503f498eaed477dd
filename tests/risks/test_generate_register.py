"""generate_register: synthetic risks at scale, consistent with the register's rules."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from risks.models import Assessment, MitigationAction, Risk, TriggerChainHead, TriggerEntry
from risks.selectors import trigger_log_verify
from risks.services import contingency_invoke

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
