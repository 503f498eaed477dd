"""?as_of= replays the register: a risk closed since then was open on that day."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from risks.selectors import heatmap_grid, risks_as_of, risks_on_register
from risks.services import risk_close
from tests.factories import RiskFactory

pytestmark = pytest.mark.django_db


def test_a_risk_closed_since_is_on_the_grid_as_of_an_earlier_day(staff_member):
    then = timezone.now() - datetime.timedelta(days=30)
    risk = RiskFactory(code="X1", likelihood=4, impact=4, last_assessed_at=then)
    type(risk).objects.filter(pk=risk.pk).update(created_at=then)
    risk.assessments.update(assessed_at=then)
    risk_close(risk=risk, reason="Resolved.", user=staff_member)

    past = timezone.localdate() - datetime.timedelta(days=10)
    grid = heatmap_grid(risks=risks_on_register(include_closed=True), as_of=past)
    assert grid.rows[1][3].risks == ["X1"]
    assert heatmap_grid(risks=risks_on_register()).total == 0
    assert not risks_as_of(risks_on_register(include_closed=True), timezone.localdate()).exists()
