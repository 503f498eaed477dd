"""The database itself refuses what must never hold, whatever code writes it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from risks.models import Assessment, Risk
from tests.factories import AgencyFactory, AssessmentFactory, PhaseFactory, RiskFactory

pytestmark = pytest.mark.django_db


def _refused(queryset, **values) -> bool:
    try:
        with transaction.atomic():
            queryset.update(**values)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize("field", ["likelihood", "impact", "target_likelihood", "target_impact"])
@pytest.mark.parametrize("level", [0, 6])
def test_risk_levels_outside_the_scale_are_refused(field, level):
    risk = RiskFactory()
    assert _refused(Risk.objects.filter(pk=risk.pk), **{field: level})


def test_score_must_be_the_product():
    risk = RiskFactory(likelihood=3, impact=3)
    assert _refused(Risk.objects.filter(pk=risk.pk), score=10)


def test_closed_risk_needs_a_reason():
    risk = RiskFactory()
    assert _refused(Risk.objects.filter(pk=risk.pk), status=Risk.Status.CLOSED)


def test_assessment_levels_and_rationale_are_enforced():
    assessment = AssessmentFactory()
    queryset = Assessment.objects.filter(pk=assessment.pk)
    assert _refused(queryset, likelihood=9)
    assert _refused(queryset, rationale="")


def test_codes_are_unique():
    RiskFactory(code="R1")
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskFactory(code="R1")
    AgencyFactory(code="DEA", name="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        AgencyFactory._meta.model.objects.create(code="DEA", name="Again")


def test_one_phase_per_number():
    PhaseFactory(number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PhaseFactory._meta.model.objects.create(number=1, name="Dup", start_year=1, end_year=2)


def test_deleting_a_risk_with_assessments_is_protected():
    from django.db.models import ProtectedError

    risk = RiskFactory()
    with pytest.raises(ProtectedError):
        risk.delete()
