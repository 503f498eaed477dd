"""Reads of the register that span relations: the scale, bands and ratings."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from risks.models import Axis, RatingBand, RatingLevel, Risk, RiskAppetite


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
