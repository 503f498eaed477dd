"""`loaddata roadmap` holds the whole seed document, checked against the markdown itself."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from risks.models import Assessment, MitigationAction, RatingBand, Risk
from roadmap.models import (
    Agency,
    FundingLine,
    GovernanceBody,
    InfrastructureRequirement,
    KeyAction,
    LegislativeRequirement,
    Metric,
    MetricTarget,
    PersonnelRequirement,
    Phase,
)

pytestmark = pytest.mark.django_db

SEED = Path(settings.BASE_DIR) / "docs" / "seed" / "drug-policy-implementation-roadmap.md"
LEVELS = {"Low": 1, "Medium-Low": 2, "Medium": 3, "Medium-High": 4, "High": 5}
AGENCY_CODES = {
    "ONDCP",
    "STATE",
    "INL",
    "USAID",
    "DEA",
    "GAO",
    "NSC",
    "OMB",
    "DOD",
    "HHS",
    "CONGRESS",
}


def seed_risks() -> dict[str, dict[str, str]]:
    """R1..R5 as written under '## Risk Mitigation'."""
    text = SEED.read_text(encoding="utf-8")
    section = text.split("## Risk Mitigation", 1)[1].split("\n## ", 1)[0]
    risks = {}
    for number, title, body in re.findall(
        r"^### Risk (\d+): (.+?)\n(.*?)(?=^### |\Z)", section, flags=re.M | re.S
    ):
        fields = dict(re.findall(r"^\*\*(.+?)\*\*: (.+)$", body, flags=re.M))
        risks[f"R{number}"] = {"title": title.strip(), **fields}
    return risks


def seed_key_actions() -> list[list[str]]:
    """Every row of the three Key Actions tables."""
    text = SEED.read_text(encoding="utf-8")
    rows = []
    for table in re.findall(r"### Key Actions\n\n(.*?)\n\n", text, flags=re.S):
        for line in table.splitlines()[2:]:  # after the header and its underline
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


@pytest.fixture(autouse=True)
def seed():
    call_command("loaddata", "roadmap", verbosity=0)


def test_counts():
    assert Risk.objects.count() == 5
    assert Phase.objects.count() == 3
    assert KeyAction.objects.count() == 18
    assert LegislativeRequirement.objects.count() == 7
    assert Metric.objects.count() == 8
    assert FundingLine.objects.count() == 4
    assert FundingLine.objects.filter(is_total=True, phase__isnull=True).count() == 1
    assert PersonnelRequirement.objects.count() == 3
    assert InfrastructureRequirement.objects.count() == 3
    assert GovernanceBody.objects.count() == 5
    for metric in Metric.objects.all():
        assert sorted(metric.targets.values_list("year", flat=True)) == [3, 5, 10]


def test_agencies():
    assert set(Agency.objects.values_list("code", flat=True)) >= AGENCY_CODES
    assert Agency.objects.get(code="INL").parent.code == "STATE"
    assert all(agency.contacts for agency in Agency.objects.all())


def test_risks_match_the_seed_document():
    seed = seed_risks()
    assert set(seed) == {"R1", "R2", "R3", "R4", "R5"}
    for code, written in seed.items():
        risk = Risk.objects.get(code=code)
        assert risk.title == written["title"]
        assert risk.likelihood == LEVELS[written["Likelihood"]]
        assert risk.impact == LEVELS[written["Impact"]]
        assert risk.score == risk.likelihood * risk.impact
        assert risk.mitigation_strategy == written["Mitigation Strategy"]
        assert risk.contingency_plan == written["Contingency Plan"]
        assert risk.target_score < risk.score


def test_exact_ratings():
    ratings = {r.code: (r.likelihood, r.impact, r.score) for r in Risk.objects.all()}
    assert ratings == {
        "R1": (5, 5, 25),
        "R2": (3, 3, 9),
        "R3": (3, 5, 15),
        "R4": (4, 5, 20),
        "R5": (3, 3, 9),
    }


def test_each_risk_has_one_assessment_matching_its_rating():
    for risk in Risk.objects.all():
        (assessment,) = Assessment.objects.filter(risk=risk)
        assert (assessment.likelihood, assessment.impact) == (risk.likelihood, risk.impact)
        assert assessment.assessed_at == risk.last_assessed_at


def test_next_review_follows_the_rating_band():
    assessed = datetime.date(2026, 1, 28)
    for risk in Risk.objects.all():
        band = RatingBand.objects.get(min_score__lte=risk.score, max_score__gte=risk.score)
        assert risk.next_review_due == assessed + datetime.timedelta(
            days=band.review_frequency_days
        )


def test_each_risk_links_phases_key_actions_and_mitigations():
    for risk in Risk.objects.all():
        assert risk.phases.exists()
        assert risk.key_actions.exists()
        clauses = [c.strip().rstrip(".") for c in risk.mitigation_strategy.split(";")]
        titles = list(risk.mitigations.order_by("id").values_list("title", flat=True))
        assert [t.lower() for t in titles] == [c.lower() for c in clauses]
    assert not MitigationAction.objects.exclude(status="planned").exists()


def test_key_actions_match_the_seed_tables():
    rows = seed_key_actions()
    assert len(rows) == 18
    for title, lead, timeline, resources, success in rows:
        action = KeyAction.objects.get(title=title)
        assert action.lead_actor == lead
        assert action.timeline == timeline
        assert action.resources_needed == resources
        assert action.success_metric == success
        assert 1 <= action.start_month <= action.end_month <= 120


@pytest.mark.parametrize(
    ("title", "codes"),
    [
        (
            "Establish interagency working group on precursor chemical diplomacy",
            {"NSC", "STATE", "DEA"},
        ),
        (
            "Congressional reauthorization of INL programs with 60/40 demand/supply mandate",
            {"CONGRESS"},
        ),
        ("Begin bilateral negotiations to replace certification process", {"STATE", "INL"}),
        (
            "Issue ONDCP strategy revision prioritizing health outcomes in international programs",
            {"ONDCP", "NSC"},
        ),
        ("Complete spending rebalance to 60/40 demand/supply", {"ONDCP", "OMB"}),
        ("Scale alternative development to full coverage in major producer regions", {"USAID"}),
    ],
)
def test_key_action_lead_agencies(title, codes):
    action = KeyAction.objects.get(title=title)
    assert set(action.lead_agencies.values_list("code", flat=True)) == codes


def test_key_action_costs():
    triple = KeyAction.objects.get(title="Triple USAID alternative development funding")
    assert (triple.cost_low_usd, triple.cost_high_usd, triple.cost_per_year) == (
        1_000_000_000,
        1_000_000_000,
        True,
    )
    scale = KeyAction.objects.get(title__startswith="Scale alternative development")
    assert (scale.cost_low_usd, scale.cost_high_usd, scale.cost_per_year) == (
        1_000_000_000,
        None,
        True,
    )
    diplomacy = KeyAction.objects.get(title__startswith="Launch diplomatic initiative")
    assert (diplomacy.cost_low_usd, diplomacy.cost_high_usd) == (5_000_000, 10_000_000)


def test_metric_targets_written_and_numeric():
    harm_reduction = MetricTarget.objects.get(
        metric__name="Countries with U.S. harm reduction assistance", year=10
    )
    assert (harm_reduction.target, harm_reduction.value_low, harm_reduction.value_high) == (
        "50+",
        50,
        None,
    )
    precursor = MetricTarget.objects.get(
        metric__name="Fentanyl precursor agreement signatories", year=5
    )
    assert (precursor.target, precursor.value_low, precursor.value_high) == ("5-10", 5, 10)
    coca = Metric.objects.get(name="Global coca cultivation")
    assert coca.direction == Metric.Direction.DECREASE
    assert (coca.baseline, coca.baseline_low, coca.baseline_high) == (
        "355,000 (2022 record)",
        355_000,
        355_000,
    )


def test_legislative_requirements():
    assert not LegislativeRequirement.objects.filter(
        phase__number=1, needs_new_legislation=True
    ).exists()
    assert (
        LegislativeRequirement.objects.filter(phase__number=2, needs_new_legislation=True).count()
        == 4
    )
