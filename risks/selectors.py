"""Reads of the register that span relations: the scale, bands and ratings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from risks.models import (
    MAX_LEVEL,
    MIN_LEVEL,
    Assessment,
    Axis,
    IndicatorBreach,
    MitigationAction,
    RatingBand,
    RatingLevel,
    Risk,
    RiskAppetite,
    TriggerChainHead,
    TriggerEntry,
)
from risks.trigger_chain import ChainReport, chain_verify


@dataclass(frozen=True)
class Scale:
    likelihood_labels: dict[int, str]
    impact_labels: dict[int, str]
    bands: tuple[RatingBand, ...]
    appetite: RiskAppetite | None

    def band_for(self, score: int | None) -> RatingBand | None:
        if score is None:
            return None
        return next((b for b in self.bands if b.min_score <= score <= b.max_score), None)

    def label(self, axis: str, level: int | None) -> str:
        if level is None:
            return ""
        labels = self.likelihood_labels if axis == Axis.LIKELIHOOD else self.impact_labels
        return labels.get(level, str(level))

    @property
    def appetite_score(self) -> int | None:
        return self.appetite.max_score if self.appetite else None


def rating_scale() -> Scale:
    """The scale in three small queries; callers hold on to it for a request."""
    labels: dict[str, dict[int, str]] = {Axis.LIKELIHOOD: {}, Axis.IMPACT: {}}
    for level in RatingLevel.objects.all():
        labels[level.axis][level.level] = level.label
    return Scale(
        likelihood_labels=labels[Axis.LIKELIHOOD],
        impact_labels=labels[Axis.IMPACT],
        bands=tuple(RatingBand.objects.all()),
        appetite=RiskAppetite.objects.order_by("-effective_from").first(),
    )


def review_frequency_days(*, risk: Risk, scale: Scale | None = None) -> int | None:
    if risk.review_frequency_days:
        return risk.review_frequency_days
    band = (scale or rating_scale()).band_for(risk.score)
    return band.review_frequency_days if band else None


def risk_list() -> QuerySet[Risk]:
    return Risk.objects.select_related("owner_agency").order_by("-score", "code")


# --- Heatmap -----------------------------------------------------------------------------

BASES = ("current", "target")
CODES_PER_CELL = 12


@dataclass(frozen=True)
class CellRisk:
    code: str
    title: str
    overdue: bool
    low_confidence: bool
    unassessed: bool


@dataclass
class HeatCell:
    likelihood: int
    impact: int
    count: int
    entries: list[CellRisk]
    band: RatingBand | None
    above_appetite: bool

    @property
    def risks(self) -> list[str]:
        return [entry.code for entry in self.entries]

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def more(self) -> int:
        return self.count - len(self.risks)


@dataclass
class Heatmap:
    scale: Scale
    basis: str
    rows: list[list[HeatCell]]  # likelihood from high to low, impact from low to high
    total: int

    @property
    def cells(self) -> list[HeatCell]:
        return [cell for row in self.rows for cell in row]


def risks_as_of(risks: QuerySet[Risk], as_of: datetime.date) -> QuerySet[Risk]:
    """Each risk's rating as it stood at the end of `as_of`, from its assessments."""
    end = timezone.make_aware(datetime.datetime.combine(as_of, datetime.time.max))
    latest = Assessment.objects.filter(risk=OuterRef("pk"), assessed_at__lte=end).order_by(
        "-assessed_at", "-id"
    )
    return (
        risks.filter(created_at__lte=end)
        .annotate(
            as_of_likelihood=Subquery(latest.values("likelihood")[:1]),
            as_of_impact=Subquery(latest.values("impact")[:1]),
        )
        .filter(as_of_likelihood__isnull=False)
    )


def heatmap_grid(
    *,
    risks: QuerySet[Risk],
    basis: str = "current",
    as_of: datetime.date | None = None,
    scale: Scale | None = None,
) -> Heatmap:
    """Counts per cell from one aggregate query and the leading codes per cell from one
    windowed query: the number of queries does not grow with the number of risks."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}")
    scale = scale or rating_scale()
    if as_of is not None:
        risks = risks_as_of(risks, as_of)
        l_field, i_field = "as_of_likelihood", "as_of_impact"
    elif basis == "target":
        l_field, i_field = "target_likelihood", "target_impact"
    else:
        l_field, i_field = "likelihood", "impact"
    risks = risks.order_by()

    counts = {
        (row[l_field], row[i_field]): row["n"]
        for row in risks.values(l_field, i_field).annotate(n=Count("pk"))
    }
    today = timezone.localdate()
    entries: dict[tuple[int, int], list[CellRisk]] = {}
    leading = (
        risks.annotate(
            cell_rank=Window(
                RowNumber(),
                partition_by=[F(l_field), F(i_field)],
                order_by=[F("score").desc(), F("code").asc()],
            )
        )
        .filter(cell_rank__lte=CODES_PER_CELL)
        .values_list(
            l_field, i_field, "code", "title", "next_review_due", "confidence", "last_assessed_at"
        )
    )
    for likelihood, impact, code, title, review_due, confidence, assessed in leading:
        entries.setdefault((likelihood, impact), []).append(
            CellRisk(
                code=code,
                title=title,
                overdue=review_due is not None and review_due < today,
                low_confidence=confidence == "low",
                unassessed=assessed is None,
            )
        )

    appetite = scale.appetite_score
    rows = [
        [
            HeatCell(
                likelihood=likelihood,
                impact=impact,
                count=counts.get((likelihood, impact), 0),
                entries=entries.get((likelihood, impact), []),
                band=scale.band_for(likelihood * impact),
                above_appetite=appetite is not None and likelihood * impact > appetite,
            )
            for impact in range(MIN_LEVEL, MAX_LEVEL + 1)
        ]
        for likelihood in range(MAX_LEVEL, MIN_LEVEL - 1, -1)
    ]
    return Heatmap(scale=scale, basis=basis, rows=rows, total=sum(counts.values()))


def risks_on_register(*, include_closed: bool = False) -> QuerySet[Risk]:
    risks = Risk.objects.all()
    return risks if include_closed else risks.exclude(status=Risk.Status.CLOSED)


def risk_detail(*, code: str) -> Risk:
    """One risk with everything its page shows, in a fixed number of queries."""
    return (
        Risk.objects.select_related("owner_agency", "closed_by")
        .prefetch_related(
            "supporting_agencies",
            "phases",
            "key_actions__lead_agencies",
            Prefetch(
                "assessments",
                queryset=Assessment.objects.select_related("assessed_by").order_by(
                    "-assessed_at", "-id"
                ),
            ),
            Prefetch(
                "mitigations",
                queryset=MitigationAction.objects.select_related("owner_agency", "key_action"),
            ),
        )
        .get(code=code)
    )


# --- Trigger log and key risk indicators ---------------------------------------------------


def trigger_log_list() -> QuerySet[TriggerEntry]:
    """The log, newest first."""
    return TriggerEntry.objects.select_related("risk", "recorded_by").order_by("-sequence")


def trigger_log_verify() -> ChainReport:
    """Check the whole hash chain against its head; reads in chunks, so it scales."""
    entries = TriggerEntry.objects.select_related("recorded_by").order_by("sequence")
    return chain_verify(
        entries.iterator(chunk_size=2000), TriggerChainHead.objects.filter(pk=1).first()
    )


def open_breaches(*, risk: Risk | None = None) -> QuerySet[IndicatorBreach]:
    """Breaches awaiting trigger review: each flags its indicator's risk."""
    breaches = IndicatorBreach.objects.filter(status=IndicatorBreach.Status.OPEN)
    if risk is not None:
        breaches = breaches.filter(indicator__risk=risk)
    return breaches.select_related("indicator__risk", "indicator__metric", "reading").order_by(
        "-detected_at", "-id"
    )
