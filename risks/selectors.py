"""Reads of the register that span relations: the scale, bands and ratings."""

from __future__ import annotations

import dataclasses
import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from common import cache as state_cache
from common import signing
from common.calendar import end_of_day, programme_year, target_calendar_year
from common.history import records_as_of, rows_as_of
from risks import rules
from risks.models import (
    MAX_LEVEL,
    MIN_LEVEL,
    Assessment,
    Axis,
    BoardReview,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    NotificationFailure,
    RatingBand,
    RatingLevel,
    Reminder,
    ReviewSnapshot,
    Risk,
    RiskAcceptance,
    RiskAppetite,
    TriggerChainHead,
    TriggerEntry,
)
from risks.signals import REGISTER, SCALE
from risks.trigger_chain import Anchor, ChainReport, chain_verify
from roadmap.models import KeyAction, Metric, MetricReading, MetricTarget


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


# Answers read from the register, kept across requests and processes until the next write
# (risks/signals.py moves the version on every save or delete in the register or the plan).


def register_cached(parts: tuple, compute):
    """`compute()`'s answer for `parts`, kept until the register changes or the day turns
    ("overdue" and the breaches open today depend on the date)."""
    return state_cache.cached(REGISTER, (*parts, timezone.localdate()), compute)


def queryset_key(queryset: QuerySet) -> tuple:
    """What identifies a queryset's rows in a cache key: its SQL and parameters."""
    sql, params = queryset.query.sql_with_params()
    return (queryset.model._meta.label, sql, tuple(params))


def rating_scale() -> Scale:
    """The scale: three small queries when it has changed since this process last read it
    (its own version, risks/signals.py SCALE), none otherwise."""
    return _SCALE.get()


def _rating_scale() -> Scale:
    labels: dict[str, dict[int, str]] = {Axis.LIKELIHOOD: {}, Axis.IMPACT: {}}
    for level in RatingLevel.objects.all():
        labels[level.axis][level.level] = level.label
    return Scale(
        likelihood_labels=labels[Axis.LIKELIHOOD],
        impact_labels=labels[Axis.IMPACT],
        bands=tuple(RatingBand.objects.all()),
        appetite=RiskAppetite.objects.order_by("-effective_from").first(),
    )


_SCALE = state_cache.ProcessMemo(SCALE, _rating_scale)


def review_frequency_days(*, risk: Risk, scale: Scale | None = None) -> int | None:
    if risk.review_frequency_days:
        return risk.review_frequency_days
    band = (scale or rating_scale()).band_for(risk.score)
    return band.review_frequency_days if band else None


def risk_list(*, as_of: datetime.date | None = None) -> QuerySet[Risk]:
    """The register today, or as it stood at the end of `as_of` (from the change history)."""
    risks = risks_as_of(as_of=as_of) if as_of is not None else Risk.objects.all()
    return risks.select_related("owner_agency").order_by("-score", "code")


# --- The register as it stood on a day: read from the change history ------------------------

RiskHistory = Risk.history.model


def is_past(risks: QuerySet) -> bool:
    """Rows of the register as of a past day (historical rows), not the live register."""
    return issubclass(risks.model, RiskHistory)


def risks_as_of(*, as_of: datetime.date) -> QuerySet:
    """Every risk as it stood at the end of `as_of` (UTC), every field included: its latest
    history row by then. A risk created later is absent; one closed by then is closed.

    The rows are simple-history's historical records, which share the risk's field names and
    its RiskFacts; `updated_at` (not tracked) reads as the time of that row. Their links
    (agencies, phases, key actions) are the snapshot taken with the row."""
    return rows_as_of(Risk, end_of_day(as_of)).annotate(updated_at=F("history_date"))


def risk_links_prefetch(risks: QuerySet) -> QuerySet:
    """Prefetch a risk's agencies, phases and key actions, live or as of a day."""
    return risks.prefetch_related(*risk_link_lookups(past=is_past(risks)))


def risk_link_lookups(*, past: bool) -> list:
    """The prefetches of a risk's agencies, phases and key actions, live or historical rows."""
    if past:
        # Each snapshot's through rows with their target joined in: one query per link.
        return [
            Prefetch(
                f"historicalrisk_{link}_set",
                queryset=snapshot_model(link).objects.select_related(target),
            )
            for link, (target, _) in LINK_VALUES.items()
        ]
    return ["supporting_agencies", "phases", "key_actions"]


LINK_VALUES = {
    "supporting_agencies": ("agency", "agency__code"),
    "phases": ("phase", "phase__number"),
    "key_actions": ("keyaction", "keyaction_id"),
}


@functools.cache
def snapshot_model(link: str):
    """The through rows that keep a historical risk's `link` (supporting_agencies, phases or
    key_actions), looked up once: simple-history's descriptor builds a manager class each
    time it is read."""
    return getattr(RiskHistory, link).model


def risk_link_filter(risks: QuerySet, link: str, target) -> Q:
    """`risk links to target` (link: supporting_agencies, phases or key_actions), live or past;
    EXISTS rather than a join, so a risk with several links appears once."""
    column = LINK_VALUES[link][0]
    if is_past(risks):
        through = snapshot_model(link)
        return Q(Exists(through.objects.filter(history=OuterRef("pk"), **{column: target})))
    through = getattr(Risk, link).through
    return Q(Exists(through.objects.filter(risk=OuterRef("pk"), **{column: target})))


def risk_links_by_row(risks: QuerySet, pks: list[int]) -> dict[str, dict[int, list]]:
    """For exports read with values(): each row's agency codes, phase numbers and key action
    ids by the row's pk (a risk's id, or a historical row's history_id), one query per link."""
    past = is_past(risks)
    found: dict[str, dict[int, list]] = {}
    for link, (_, value) in LINK_VALUES.items():
        if past:
            through, key = snapshot_model(link), "history_id"
        else:
            through, key = getattr(Risk, link).through, "risk_id"
        rows = found[link] = {}
        for pk, item in (
            through.objects.filter(**{f"{key}__in": pks}).order_by(value).values_list(key, value)
        ):
            rows.setdefault(pk, []).append(item)
    return found


def breaches_open_on(
    *, on: datetime.date | None = None, risk_ref: str | None = None, risk_id: int | None = None
) -> QuerySet:
    """Breaches open now (or at the end of `on`): of the outer row's risk (`risk_ref`, in a
    subquery), of one risk, or all."""
    breaches = IndicatorBreach.objects.all()
    if risk_ref is not None:
        breaches = breaches.filter(indicator__risk=OuterRef(risk_ref))
    if risk_id is not None:
        breaches = breaches.filter(indicator__risk_id=risk_id)
    if on is None:
        return breaches.filter(status=IndicatorBreach.Status.OPEN)
    end = end_of_day(on)
    return breaches.filter(detected_at__lte=end).exclude(resolved_at__lte=end)


# --- A risk's records as of a day (the API's lists with `as_of`) ----------------------------


def mitigations_as_of(*, as_of: datetime.date) -> QuerySet:
    """Every mitigation action as it stood at the end of `as_of`: status, progress, due date,
    owner, from its change history (`updated_at`, not tracked, reads as the row's time)."""
    return (
        rows_as_of(MitigationAction, end_of_day(as_of))
        .annotate(updated_at=F("history_date"))
        .select_related("risk", "owner_agency", "key_action")
    )


def indicators_as_of(*, as_of: datetime.date) -> QuerySet:
    """Every key risk indicator as it stood at the end of `as_of`, with the breaches open
    then (`open_breach_count`)."""
    breaches = (
        breaches_open_on(on=as_of)
        .filter(indicator=OuterRef("id"))
        .order_by()
        .values("indicator")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        rows_as_of(Indicator, end_of_day(as_of))
        .select_related("risk", "metric")
        .annotate(open_breach_count=Coalesce(Subquery(breaches), 0))
    )


def breaches_as_of(*, as_of: datetime.date) -> QuerySet:
    """Every indicator breach as it stood at the end of `as_of`: open, or resolved by then."""
    return rows_as_of(IndicatorBreach, end_of_day(as_of)).select_related(
        "indicator__risk", "indicator__metric", "reading", "resolved_by"
    )


def dated_by(records: QuerySet, field: str, *, as_of: datetime.date) -> QuerySet:
    """Records that never change once written (assessments, trigger log entries): those
    whose `field` falls on or before the end of `as_of`."""
    return records.filter(**{f"{field}__lte": end_of_day(as_of)})


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
    flagged: bool = False  # an open key risk indicator breach awaits trigger review


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


def _breach_open(*, on: datetime.date | None) -> QuerySet[IndicatorBreach]:
    """An indicator breach of the outer row's risk (`id`, also on history rows) open now, or
    open at the end of `on`: detected by then and not resolved by then."""
    breaches = IndicatorBreach.objects.filter(indicator__risk=OuterRef("id"))
    if on is None:
        return breaches.filter(status=IndicatorBreach.Status.OPEN)
    end = end_of_day(on)
    return breaches.filter(detected_at__lte=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gt=end)
    )


def heatmap_grid(
    *,
    risks: QuerySet[Risk],
    basis: str = "current",
    as_of: datetime.date | None = None,
    scale: Scale | None = None,
) -> Heatmap:
    """Counts per cell from one aggregate query and the leading codes per cell from one more:
    the number of queries does not grow with the number of risks. Kept in the cache until
    the register changes (see register_cached)."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}")
    if scale is not None:
        return _heatmap_grid(risks=risks, basis=basis, as_of=as_of, scale=scale)
    return register_cached(
        ("heatmap_grid", queryset_key(risks), basis, as_of),
        lambda: _heatmap_grid(risks=risks, basis=basis, as_of=as_of, scale=rating_scale()),
    )


def _heatmap_grid(*, risks, basis, as_of, scale) -> Heatmap:
    if basis == "target":
        l_field, i_field = "target_likelihood", "target_impact"
    else:
        l_field, i_field = "likelihood", "impact"
    risks = risks.order_by()

    counts = {
        (row[l_field], row[i_field]): row["n"]
        for row in risks.values(l_field, i_field).annotate(n=Count("*"))
    }
    on = as_of or timezone.localdate()
    entries: dict[tuple[int, int], list[CellRisk]] = {}
    columns = (
        l_field,
        i_field,
        "code",
        "title",
        "next_review_due",
        "status",
        "confidence",
        "last_assessed_at",
        "flagged",
    )
    risks = risks.annotate(flagged=Exists(_breach_open(on=as_of)))
    cells = [cell for cell, n in counts.items() if n and None not in cell]
    if connection.vendor == "postgresql" and not is_past(risks):
        leading = _leading_per_cell(risks, l_field, i_field, columns, cells)
    else:
        leading = _leading_windowed(risks, l_field, i_field, columns)
    for (
        likelihood,
        impact,
        code,
        title,
        review_due,
        status,
        confidence,
        assessed,
        flagged,
    ) in leading:
        entries.setdefault((likelihood, impact), []).append(
            CellRisk(
                code=code,
                title=title,
                overdue=rules.is_overdue(next_review_due=review_due, status=status, on=on),
                low_confidence=confidence == "low",
                unassessed=assessed is None,
                flagged=flagged,
            )
        )

    rows = _grid_rows(scale=scale, counts=counts, entries=entries)
    return Heatmap(scale=scale, basis=basis, rows=rows, total=sum(counts.values()))


def _leading_windowed(risks, l_field, i_field, columns):
    """The leading codes of every cell in one query, ranked by a window (SQLite, history)."""
    return (
        risks.annotate(
            cell_rank=Window(
                RowNumber(),
                partition_by=[F(l_field), F(i_field)],
                order_by=[F("score").desc(), F("code").asc()],
            )
        )
        .filter(cell_rank__lte=CODES_PER_CELL)
        .values_list(*columns)
    )


def _leading_per_cell(risks, l_field, i_field, columns, cells):
    """On PostgreSQL: for each non-empty cell, its first CODES_PER_CELL risks by score and
    code, each a LIMIT read of the (cell, -score, code) index that stops early (a LATERAL
    join over the cells), where the window sorts every risk on the register."""
    if not cells:
        return []
    per_cell = (
        risks.filter(**{l_field: RawSQL("cell.l", ()), i_field: RawSQL("cell.i", ())})
        .order_by("-score", "code")
        .values_list(*columns, "score")[:CODES_PER_CELL]
    )
    sql, params = per_cell.query.sql_with_params()
    values = ", ".join(["(%s, %s)"] * len(cells))
    # Only placeholders and the ORM's own compiled SQL are spliced in; every value is a param.
    query = (
        f"SELECT top.* FROM (VALUES {values}) AS cell(l, i) "  # noqa: S608  # nosec B608
        f"CROSS JOIN LATERAL ({sql}) AS top "
        "ORDER BY cell.l, cell.i, top.score DESC, top.code"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [level for cell in cells for level in cell] + list(params))
        return [row[:-1] for row in cursor.fetchall()]


def risks_on_register(*, include_closed: bool = False) -> QuerySet[Risk]:
    """The live register's open risks (or all of them)."""
    risks = Risk.objects.all()
    return risks if include_closed else risks.exclude(status=Risk.Status.CLOSED)


def heatmap_risks(*, status: str | None = None, as_of: datetime.date | None = None) -> QuerySet:
    """The rows a heatmap counts, before its filters: see rules.heatmap_includes_closed."""
    risks = risk_list(as_of=as_of)
    if not rules.heatmap_includes_closed(status=status):
        risks = risks.exclude(status=rules.CLOSED)
    return risks


def with_previous_rating(assessments: QuerySet[Assessment]) -> QuerySet[Assessment]:
    """Each assessment with the rating of the one before it for the same risk
    (`previous_likelihood`, `previous_impact`, `previous_score`; null for a first rating).

    Correlated subqueries, each one probe of the (risk, -assessed_at, -id) index, so they hold
    whatever filters the outer query has (a window function would see only the filtered
    rows)."""
    previous = (
        Assessment.objects.filter(risk=OuterRef("risk"))
        .filter(
            Q(assessed_at__lt=OuterRef("assessed_at"))
            | Q(assessed_at=OuterRef("assessed_at"), id__lt=OuterRef("id"))
        )
        .order_by("-assessed_at", "-id")
    )
    return assessments.annotate(
        previous_likelihood=Subquery(previous.values("likelihood")[:1]),
        previous_impact=Subquery(previous.values("impact")[:1]),
    ).annotate(previous_score=F("previous_likelihood") * F("previous_impact"))


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
                queryset=with_previous_rating(
                    Assessment.objects.select_related("assessed_by")
                ).order_by("-assessed_at", "-id"),
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
    """The log, newest first, each entry with its signed head."""
    return TriggerEntry.objects.select_related("risk", "recorded_by", "checkpoint").order_by(
        "-sequence"
    )


RECORD_PERMISSION = ("risks", "add_triggerentry")


def trigger_log_recorders() -> set[int]:
    """Everyone who holds the permission to record trigger log entries now: directly, through
    a group (Staff), or as a superuser. Active or not, so a recorder who left (deactivated)
    still counts; one taken out of Staff no longer does, and verification names the entry."""
    app_label, codename = RECORD_PERMISSION
    permission = Q(content_type__app_label=app_label, codename=codename)
    User = get_user_model()
    return set(
        User.objects.filter(
            Q(is_superuser=True)
            | Q(user_permissions__in=Permission.objects.filter(permission))
            | Q(groups__permissions__in=Permission.objects.filter(permission))
        ).values_list("pk", flat=True)
    )


def _risk_had_code(risk_id: int, code: str) -> bool:
    # Almost always the current code; a renamed risk is looked up in its history. A risk
    # loaded or generated without a baseline history row cannot be told: it passes.
    if Risk.objects.filter(pk=risk_id, code=code).exists():
        return True
    history = Risk.history.filter(id=risk_id)
    return history.filter(code=code).exists() or not history.filter(history_type="+").exists()


def trigger_log_verify() -> ChainReport:
    """Check the whole chain (hashes, links, times, signed heads, recorders) against its head
    and every finalised board review's anchor; reads in chunks, so it scales."""
    entries = TriggerEntry.objects.select_related("checkpoint").order_by("sequence")
    reviews = (
        BoardReview.objects.filter(status=BoardReview.Status.FINAL)
        .select_related("trigger_log_anchor")
        .order_by("finalised_at", "quarter")
    )
    return chain_verify(
        entries.iterator(chunk_size=2000),
        TriggerChainHead.objects.filter(pk=1).first(),
        key=signing.public_key(),
        recorders=trigger_log_recorders(),
        risk_had_code=_risk_had_code,
        anchors=[Anchor(r.quarter, r.trigger_log_anchor) for r in reviews],
    )


def open_breaches(*, risk: Risk | None = None) -> QuerySet[IndicatorBreach]:
    """Breaches awaiting trigger review: each flags its indicator's risk."""
    breaches = IndicatorBreach.objects.filter(status=IndicatorBreach.Status.OPEN)
    if risk is not None:
        breaches = breaches.filter(indicator__risk=risk)
    return breaches.select_related("indicator__risk", "indicator__metric", "reading").order_by(
        "-detected_at", "-id"
    )


# --- Board reviews: frozen grids, movement since a review, what changed --------------------


def review_list() -> QuerySet[BoardReview]:
    """Every review, newest quarter first, with how many risks its snapshot froze."""
    return (
        BoardReview.objects.select_related("created_by", "finalised_by", "trigger_log_anchor")
        .annotate(snapshot_count=Count("snapshots"))
        .order_by("-quarter")
    )


def review_get(*, quarter: str) -> BoardReview:
    return BoardReview.objects.select_related(
        "created_by", "finalised_by", "trigger_log_anchor"
    ).get(quarter=quarter)


def review_latest_final(*, before: datetime.datetime | None = None) -> BoardReview | None:
    """The review whose snapshot the board froze last (before `before`, when given)."""
    reviews = BoardReview.objects.filter(status=BoardReview.Status.FINAL)
    if before is not None:
        reviews = reviews.filter(finalised_at__lt=before)
    return reviews.order_by("-finalised_at", "-id").first()


def _grid_rows(
    *, scale: Scale, counts: dict[tuple[int, int], int], entries: dict[tuple[int, int], list]
) -> list[list[HeatCell]]:
    appetite = scale.appetite_score
    return [
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


def review_grid(
    *, review: BoardReview, basis: str = "current", scale: Scale | None = None
) -> Heatmap:
    """The heatmap as it stood when `review` was finalised, built from its snapshots in the
    same two queries as heatmap_grid. A draft has no snapshot yet: its grid is empty."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}")
    scale = scale or rating_scale()
    l_field, i_field = (
        ("target_likelihood", "target_impact") if basis == "target" else ("likelihood", "impact")
    )
    snapshots = ReviewSnapshot.objects.filter(review=review).order_by()
    counts = {
        (row[l_field], row[i_field]): row["n"]
        for row in snapshots.values(l_field, i_field).annotate(n=Count("*"))
    }
    # "Overdue" as it was on the day of the snapshot, not as it would be today.
    frozen_on = timezone.localdate(review.finalised_at) if review.finalised_at else None
    leading = (
        snapshots.annotate(
            cell_rank=Window(
                RowNumber(),
                partition_by=[F(l_field), F(i_field)],
                order_by=[F("score").desc(), F("risk__code").asc()],
            )
        )
        .filter(cell_rank__lte=CODES_PER_CELL)
        .values_list(l_field, i_field, "risk__code", "risk__title", "next_review_due", "confidence")
    )
    entries: dict[tuple[int, int], list[CellRisk]] = {}
    for likelihood, impact, code, title, review_due, confidence in leading:
        entries.setdefault((likelihood, impact), []).append(
            CellRisk(
                code=code,
                title=title,
                overdue=bool(frozen_on and review_due and review_due < frozen_on),
                low_confidence=confidence == "low",
                unassessed=False,
            )
        )
    for cell_entries in entries.values():
        # The window ranks within a cell; the rows themselves arrive in no promised order.
        cell_entries.sort(key=lambda e: e.code)
    return Heatmap(
        scale=scale,
        basis=basis,
        rows=_grid_rows(scale=scale, counts=counts, entries=entries),
        total=sum(counts.values()),
    )


TIMES = "\N{MULTIPLICATION SIGN}"


def cell_label(scale: Scale, likelihood: int, impact: int) -> str:
    """E.g. 'Medium/Medium (3 by 3)' with a multiplication sign: both levels, words and numbers."""
    return (
        f"{scale.label(Axis.LIKELIHOOD, likelihood)}/{scale.label(Axis.IMPACT, impact)} "
        f"({likelihood}{TIMES}{impact})"
    )


def _direction(before: int, after: int) -> str:
    return "up" if after > before else "down" if after < before else "across"


@dataclass(frozen=True)
class MovedRisk(CellRisk):
    """A code on the grid, with where it stood at the review it is compared with."""

    came_from: str = ""  # a cell_label; empty when it has not moved
    direction: str = ""  # "up" (score rose), "down" (fell) or "across" (same score)
    is_new: bool = False  # not in the review's snapshot: added to the register since


@dataclass(frozen=True)
class Departure:
    """Shown in the cell a risk left, so the eye can follow the move."""

    code: str
    went_to: str
    direction: str


@dataclass
class MovementCell(HeatCell):
    departed: list[Departure] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Move:
    code: str
    title: str
    came_from: str
    went_to: str
    from_score: int
    to_score: int
    direction: str


@dataclass
class Movement:
    review: BoardReview | None  # the review compared with; None: nothing to compare
    grid: Heatmap  # the same grid, its cells marked with moves, departures and new risks
    moves: list[Move]
    new_codes: list[str]


def heatmap_page(
    *, risks: QuerySet[Risk], basis: str = "current", as_of: datetime.date | None = None
) -> Movement:
    """The heatmap page's grid with its movement since the review the board had finalised
    by then (as of a past day: by the end of that day); cached like the grid."""

    def compute() -> Movement:
        grid = heatmap_grid(risks=risks, basis=basis, as_of=as_of)
        before = end_of_day(as_of) if as_of else None
        return heatmap_movement(grid=grid, review=review_latest_final(before=before))

    return register_cached(("heatmap_page", queryset_key(risks), basis, as_of), compute)


def heatmap_movement(*, grid: Heatmap, review: BoardReview | None) -> Movement:
    """Mark each risk on `grid` that sits in another cell than in `review`'s snapshot, and
    each one the snapshot does not hold. One query, for the snapshot cells of the codes shown,
    whatever their number; the grid's basis (current or target) picks the cells compared."""
    if review is None:
        return Movement(review=None, grid=grid, moves=[], new_codes=[])
    scale = grid.scale
    shown = {entry.code: (cell, entry) for cell in grid.cells for entry in cell.entries}
    l_field, i_field = (
        ("target_likelihood", "target_impact")
        if grid.basis == "target"
        else ("likelihood", "impact")
    )
    before = {
        code: (likelihood, impact)
        for code, likelihood, impact in ReviewSnapshot.objects.filter(
            review=review, risk__code__in=list(shown)
        ).values_list("risk__code", l_field, i_field)
    }

    def marked(entry: CellRisk, **marks) -> MovedRisk:
        return MovedRisk(
            **{f.name: getattr(entry, f.name) for f in dataclasses.fields(CellRisk)}, **marks
        )

    marks: dict[str, MovedRisk] = {}
    departed: dict[tuple[int, int], list[Departure]] = {}
    moves: list[Move] = []
    new_codes: list[str] = []
    for code, (cell, entry) in shown.items():
        was = before.get(code)
        if was is None:
            marks[code] = marked(entry, is_new=True)
            new_codes.append(code)
            continue
        if was == (cell.likelihood, cell.impact):
            continue
        move = Move(
            code=code,
            title=entry.title,
            came_from=cell_label(scale, *was),
            went_to=cell_label(scale, cell.likelihood, cell.impact),
            from_score=was[0] * was[1],
            to_score=cell.score,
            direction=_direction(was[0] * was[1], cell.score),
        )
        moves.append(move)
        marks[code] = marked(entry, came_from=move.came_from, direction=move.direction)
        departed.setdefault(was, []).append(
            Departure(code=code, went_to=move.went_to, direction=move.direction)
        )
    rows = [
        [
            MovementCell(
                **{
                    f.name: getattr(cell, f.name)
                    for f in dataclasses.fields(HeatCell)
                    if f.name != "entries"
                },
                entries=[marks.get(entry.code, entry) for entry in cell.entries],
                departed=departed.get((cell.likelihood, cell.impact), []),
            )
            for cell in row
        ]
        for row in grid.rows
    ]
    moves.sort(key=lambda m: (-m.to_score, m.code))
    return Movement(
        review=review,
        grid=Heatmap(scale=scale, basis=grid.basis, rows=rows, total=grid.total),
        moves=moves,
        new_codes=sorted(new_codes),
    )


@dataclass(frozen=True)
class RiskState:
    code: str
    title: str
    likelihood: int
    impact: int
    status: str

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def status_label(self) -> str:
        return Risk.Status(self.status).label


@dataclass(frozen=True)
class Change:
    before: RiskState | None
    after: RiskState | None

    @property
    def code(self) -> str:
        return (self.after or self.before).code

    @property
    def title(self) -> str:
        return (self.after or self.before).title


@dataclass
class ReviewChanges:
    previous: BoardReview | None
    rerated: list[Change]
    new: list[Change]
    left: list[Change]  # open at the previous review, not any more (closed)
    status_changed: list[Change]

    @property
    def any(self) -> bool:
        return bool(self.rerated or self.new or self.left or self.status_changed)


STATE_FIELDS = ("likelihood", "impact", "status")


def review_changes(*, review: BoardReview) -> ReviewChanges:
    """What changed between the previous finalised review and this one: for a final review,
    its own snapshot; for a draft, the register as it stands (what finalising would freeze).
    Three queries whatever the number of risks."""
    if review.is_final:
        previous = review_latest_final(before=review.finalised_at)
        now_rows = ReviewSnapshot.objects.filter(review=review).values_list(
            "risk__code", "risk__title", *STATE_FIELDS
        )
    else:
        previous = review_latest_final()
        now_rows = risks_on_register().values_list("code", "title", *STATE_FIELDS)
    now = {row[0]: RiskState(*row) for row in now_rows}
    before: dict[str, RiskState] = {}
    if previous is not None:
        before = {
            row[0]: RiskState(*row)
            for row in ReviewSnapshot.objects.filter(review=previous).values_list(
                "risk__code", "risk__title", *STATE_FIELDS
            )
        }
    changes = ReviewChanges(previous=previous, rerated=[], new=[], left=[], status_changed=[])
    if previous is None:
        return changes  # the first review: everything is new, which says nothing
    for code in sorted(now.keys() | before.keys()):
        after, was = now.get(code), before.get(code)
        change = Change(before=was, after=after)
        if was is None:
            changes.new.append(change)
        elif after is None:
            changes.left.append(change)
        else:
            if (was.likelihood, was.impact) != (after.likelihood, after.impact):
                changes.rerated.append(change)
            if was.status != after.status:
                changes.status_changed.append(change)
    return changes


def review_acceptances(*, review: BoardReview) -> QuerySet[RiskAcceptance]:
    return review.acceptances.select_related("risk", "accepted_by").order_by("risk__code")


def acceptance_candidates(*, review: BoardReview) -> QuerySet[Risk]:
    """Open risks whose response is `accept` and that this review has not accepted yet."""
    return (
        risks_on_register()
        .filter(response=Risk.Response.ACCEPT)
        .exclude(acceptances__review=review)
        .order_by("-score", "code")
    )


# --- A risk's page: its trigger log, breaches, acceptances and snapshots ---------------------


@dataclass
class RiskPage:
    risk: Risk
    on: datetime.date  # today, or the `as_of` day the page shows
    as_of: datetime.date | None
    overdue: bool
    supporting: list
    phases: list
    key_actions: list
    assessments: list[Assessment]
    mitigations: list[MitigationAction]
    trigger_entries: list[TriggerEntry]
    breaches: list[IndicatorBreach]
    acceptances: list[RiskAcceptance]
    snapshots: list[ReviewSnapshot]


def risk_page(*, code: str, as_of: datetime.date | None = None) -> RiskPage:
    """What the board looks at on a risk's page, today or as it stood at the end of `as_of`
    (every part from the history or dated rows up to then): a fixed number of queries."""
    if as_of is None:
        risk = risk_detail(code=code)
        end = None
        mitigations = list(risk.mitigations.all())
        assessments = list(risk.assessments.all())
    else:
        end = end_of_day(as_of)
        found = records_as_of(
            Risk, end, where={"code": code}, select_related=("owner_agency", "closed_by")
        )
        if not found:
            raise Risk.DoesNotExist(f"No risk {code} on {as_of}")
        risk = found[0]
        risk.updated_at = risk.history_date  # as risks_as_of reads it
        prefetch_related_objects(
            found,
            *risk_link_lookups(past=True),
            "historicalrisk_key_actions_set__keyaction__lead_agencies",  # as risk_detail
        )
        key_actions = _key_actions_then(risk.key_action_list, end)
        mitigations = sorted(
            records_as_of(
                MitigationAction,
                end,
                where={"risk_id": risk.id},
                select_related=("owner_agency", "key_action"),
            ),
            key=lambda row: (row.due_date, row.id),
        )
        assessments = list(
            with_previous_rating(Assessment.objects.filter(risk_id=risk.id, assessed_at__lte=end))
            .select_related("assessed_by")
            .order_by("-assessed_at", "-id")
        )
    risk_id = risk.id
    on = as_of or timezone.localdate()
    dated = {} if end is None else {"recorded_at__lte": end}
    breaches = breaches_open_on(on=as_of, risk_id=risk_id).order_by("-detected_at", "-id")
    return RiskPage(
        risk=risk,
        on=on,
        as_of=as_of,
        overdue=rules.is_overdue(next_review_due=risk.next_review_due, status=risk.status, on=on),
        supporting=risk.supporting_agency_list,
        phases=risk.phase_list,
        key_actions=risk.key_action_list if end is None else key_actions,
        assessments=assessments,
        mitigations=mitigations,
        trigger_entries=list(
            TriggerEntry.objects.filter(risk_id=risk_id, **dated)
            .select_related("recorded_by")
            .order_by("-sequence")
        ),
        breaches=list(breaches.select_related("indicator__metric", "reading")),
        acceptances=list(
            RiskAcceptance.objects.filter(
                risk_id=risk_id, **({} if end is None else {"accepted_on__lte": as_of})
            ).select_related("review", "accepted_by")
        ),
        snapshots=list(
            ReviewSnapshot.objects.filter(
                risk_id=risk_id,
                review__status=BoardReview.Status.FINAL,
                **({} if end is None else {"review__finalised_at__lte": end}),
            )
            .select_related("review")
            .order_by("-review__finalised_at")
        ),
    )


def _key_actions_then(linked: list[KeyAction], end: datetime.datetime) -> list:
    """The key actions a risk was linked to on a past day, as they stood then (title,
    timeline, status: the plan's history rows), with their lead agencies as they are today
    (the plan's history does not keep them)."""
    then = {row.id: row for row in records_as_of(KeyAction, end, ids=[a.pk for a in linked])}
    shown = []
    for action in linked:
        row = then.get(action.pk)
        if row is None:  # no history row by then: a plan item without a baseline
            shown.append(action)
            continue
        row.lead_agencies = action.lead_agencies  # prefetched: the manager reads its cache
        shown.append(row)
    return shown


# --- The board's dashboard -----------------------------------------------------------------

DASHBOARD_TOP = 10
DASHBOARD_LIMIT = 20  # longer lists link to the register, filtered
ACCEPTANCE_NOTICE_DAYS = 30


@dataclass(frozen=True)
class RatingChange:
    assessment: Assessment
    old_likelihood: int | None
    old_impact: int | None

    @property
    def old_score(self) -> int | None:
        if self.old_likelihood is None or self.old_impact is None:
            return None
        return self.old_likelihood * self.old_impact

    @property
    def moved(self) -> bool:
        return (self.old_likelihood, self.old_impact) != (
            self.assessment.likelihood,
            self.assessment.impact,
        )


@dataclass(frozen=True)
class MetricProgress:
    metric: Metric
    target: MetricTarget | None  # the next target not yet passed; None after the last
    reading_value: Decimal | None
    reading_on: datetime.date | None

    @property
    def target_calendar_year(self) -> int | None:
        return target_calendar_year(self.target.year) if self.target else None

    @property
    def on_target(self) -> bool | None:
        """Whether the latest reading already meets the next target; None when unknown."""
        if self.target is None or self.reading_value is None:
            return None
        if self.metric.direction == Metric.Direction.DECREASE:
            ceiling = self.target.value_high
            return self.reading_value <= (ceiling if ceiling is not None else self.target.value_low)
        return self.reading_value >= self.target.value_low


@dataclass
class Dashboard:
    today: datetime.date  # the day shown: today, or the `as_of` day
    as_of: datetime.date | None
    scale: Scale
    top_risks: list[Risk]
    above_appetite: list[Risk]
    above_appetite_total: int
    overdue: list[Risk]
    overdue_total: int
    contingencies: list[Risk]  # annotated trigger_reason, trigger_at, trigger_kind
    rating_changes: list[RatingChange]
    metrics: list[MetricProgress]
    breaches: list[IndicatorBreach]
    breaches_total: int
    acceptances_expired: list[RiskAcceptance]
    acceptances_expiring: list[RiskAcceptance]
    latest_review: BoardReview | None
    # Trigger log entries whose email was not delivered (risks.notifications), newest first.
    undelivered: list[NotificationFailure] = dataclasses.field(default_factory=list)
    # Reminders that send_reminders could not deliver, and not delivered since (risks.reminders).
    reminders_failed: list[Reminder] = dataclasses.field(default_factory=list)

    @property
    def needs_decision(self) -> bool:
        return bool(self.acceptances_expired or self.breaches)


def acceptances_to_notice(
    *, today: datetime.date, as_of: datetime.date | None = None
) -> QuerySet[RiskAcceptance]:
    """Acceptances expired or expiring within ACCEPTANCE_NOTICE_DAYS of `today`, of open risks
    still answered by acceptance. Only a risk's latest acceptance counts: a renewal supersedes
    the one before it. With `as_of` (the dashboard of a past day, `today` being that day): the
    acceptances given by then, of risks open and answered by acceptance in their state of that
    day, each with that day's score (`rating_score`)."""
    later = RiskAcceptance.objects.filter(
        risk=OuterRef("risk"), expires_on__gt=OuterRef("expires_on")
    )
    acceptances = RiskAcceptance.objects.filter(
        expires_on__lte=today + datetime.timedelta(days=ACCEPTANCE_NOTICE_DAYS)
    )
    if as_of is None:
        acceptances = acceptances.filter(risk__response=Risk.Response.ACCEPT).exclude(
            risk__status=Risk.Status.CLOSED
        )
        score = F("risk__score")
    else:
        given = {"accepted_on__lte": as_of}
        acceptances = acceptances.filter(**given)
        later = later.filter(**given)
        then = risks_as_of(as_of=as_of).filter(id=OuterRef("risk_id"))
        acceptances = acceptances.filter(
            Exists(then.filter(response=Risk.Response.ACCEPT).exclude(status=Risk.Status.CLOSED))
        )
        score = Subquery(then.values("score")[:1])
    return (
        acceptances.exclude(Exists(later))
        .annotate(rating_score=score)
        .select_related("risk__owner_agency", "review")
        .order_by("expires_on", "risk__code")
    )


def dashboard(
    *, today: datetime.date | None = None, as_of: datetime.date | None = None
) -> Dashboard:
    """Everything on the board's front page in a fixed number of queries, however many risks,
    assessments, breaches or acceptances there are: each list is one query (plus a count).

    With `as_of`, the page as it stood at the end of that day: the register's rows from the
    change history (risks_as_of), and every dated record (assessments, trigger log entries,
    breaches, acceptances, readings, reviews, failed deliveries) up to then."""
    today = as_of or today or timezone.localdate()
    end = end_of_day(as_of) if as_of is not None else None
    scale = rating_scale()
    open_risks = (
        risk_list(as_of=as_of).exclude(status=Risk.Status.CLOSED)
        if as_of is not None
        else risks_on_register().select_related("owner_agency").order_by("-score", "code")
    )

    appetite = scale.appetite_score
    above = open_risks.filter(score__gt=appetite) if appetite is not None else open_risks.none()
    overdue = (
        open_risks.filter(rules.overdue_q(today))
        .annotate(reminded=reminded_since_due(on=as_of))
        .order_by("next_review_due", "code")
    )

    # `id`, not `pk`: a row of the past is a history row whose risk is its `id`.
    latest_entry = TriggerEntry.objects.filter(risk=OuterRef("id")).order_by("-sequence")
    if end is not None:
        latest_entry = latest_entry.filter(recorded_at__lte=end)
    contingencies = open_risks.filter(status=Risk.Status.CONTINGENCY_ACTIVE).annotate(
        trigger_reason=Subquery(latest_entry.values("reason")[:1]),
        trigger_at=Subquery(latest_entry.values("recorded_at")[:1]),
        trigger_kind=Subquery(latest_entry.values("kind")[:1]),
    )

    # The previous assessment of the same risk, read only for the ten rows shown.
    assessed = Assessment.objects.select_related("risk", "assessed_by")
    if end is not None:
        assessed = assessed.filter(assessed_at__lte=end)
    assessments = with_previous_rating(assessed).order_by("-assessed_at", "-id")[:DASHBOARD_TOP]

    latest_reading = MetricReading.objects.filter(metric=OuterRef("pk")).order_by(
        "-observed_on", "-id"
    )
    if end is not None:
        latest_reading = latest_reading.filter(observed_on__lte=as_of, recorded_at__lte=end)
    metrics = Metric.objects.annotate(
        reading_value=Subquery(latest_reading.values("value")[:1]),
        reading_on=Subquery(latest_reading.values("observed_on")[:1]),
    ).prefetch_related(Prefetch("targets", queryset=MetricTarget.objects.order_by("year")))
    year = programme_year(today)

    if as_of is None:
        breaches = open_breaches()
    else:
        breaches = (
            breaches_open_on(on=as_of)
            .select_related("indicator__risk", "indicator__metric", "reading")
            .order_by("-detected_at", "-id")
        )

    acceptances = list(acceptances_to_notice(today=today, as_of=as_of))

    undelivered = NotificationFailure.objects.select_related("entry__risk")
    if end is not None:
        undelivered = undelivered.filter(failed_at__lte=end)

    return Dashboard(
        today=today,
        as_of=as_of,
        scale=scale,
        top_risks=list(open_risks[:DASHBOARD_TOP]),
        above_appetite=list(above[:DASHBOARD_LIMIT]),
        above_appetite_total=above.count(),
        overdue=list(overdue[:DASHBOARD_LIMIT]),
        overdue_total=overdue.count(),
        contingencies=list(contingencies[:DASHBOARD_LIMIT]),
        rating_changes=[
            RatingChange(
                assessment=a, old_likelihood=a.previous_likelihood, old_impact=a.previous_impact
            )
            for a in assessments
        ],
        metrics=[
            MetricProgress(
                metric=metric,
                target=next((t for t in metric.targets.all() if t.year >= year), None),
                reading_value=metric.reading_value,
                reading_on=metric.reading_on,
            )
            for metric in metrics
        ],
        breaches=list(breaches[:DASHBOARD_LIMIT]),
        breaches_total=breaches.count(),
        acceptances_expired=[a for a in acceptances if a.expires_on <= today],
        acceptances_expiring=[a for a in acceptances if a.expires_on > today],
        latest_review=review_latest_final(before=end),
        undelivered=list(undelivered[:DASHBOARD_LIMIT]),
        reminders_failed=list(reminders_undelivered(today=today, until=end)[:DASHBOARD_LIMIT]),
    )


# --- Reminders (risks.reminders sends them) --------------------------------------------------

REMINDER_FAILURES_SHOWN_DAYS = 14


def reminded_since_due(*, on: datetime.date | None = None):
    """For a risk row (live, or of the past: its risk is `id`): on how many days its owner was
    reminded of its overdue review, since that review fell due (and up to `on`)."""
    reminders = Reminder.objects.filter(sent_on__lte=on) if on else Reminder.objects.all()
    reminders = (
        reminders.filter(
            risk=OuterRef("id"),
            kind=Reminder.Kind.REVIEW_OVERDUE,
            status=Reminder.Status.SENT,
            due_on=OuterRef("next_review_due"),
        )
        .order_by()
        .values("risk")
        .annotate(days=Count("sent_on", distinct=True))
        .values("days")
    )
    return Coalesce(Subquery(reminders), 0)


def reminders_undelivered(
    *, today: datetime.date, until: datetime.datetime | None = None
) -> QuerySet[Reminder]:
    """Failed reminders of the last two weeks that no later send made good (to the same
    recipient; or to anyone, for an item that had nobody to go to), newest first; with
    `until`, as it stood then."""
    reminders = Reminder.objects.filter(sent_at__lte=until) if until else Reminder.objects.all()
    later_sent = reminders.filter(
        status=Reminder.Status.SENT,
        kind=OuterRef("kind"),
        item=OuterRef("item"),
        sent_at__gt=OuterRef("sent_at"),
    )
    return (
        reminders.filter(
            status=Reminder.Status.FAILED,
            sent_on__gte=today - datetime.timedelta(days=REMINDER_FAILURES_SHOWN_DAYS),
        )
        .exclude(Exists(later_sent.filter(recipient=OuterRef("recipient"))))
        .exclude(Q(recipient="") & Exists(later_sent))
        .select_related("risk", "mitigation", "acceptance")
        .order_by("-sent_at", "-id")
    )


# --- The board pack (risks.pack renders it as PDF) -------------------------------------------


@dataclass(frozen=True)
class RegisterRow:
    code: str
    title: str
    owner: str
    owner_agency: str
    likelihood: int
    impact: int
    target_likelihood: int
    target_impact: int
    status_label: str
    next_review_due: datetime.date | None

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def target_score(self) -> int:
        return self.target_likelihood * self.target_impact


def review_register(*, review: BoardReview) -> list[RegisterRow]:
    """Every open risk of a review, by score: its snapshot when final; the register as it
    stands (what finalising would freeze) for a draft. One query."""
    if review.is_final:
        rows = (
            ReviewSnapshot.objects.filter(review=review)
            .select_related("risk__owner_agency")
            .order_by("-score", "risk__code")
        )
        return [
            RegisterRow(
                code=s.risk.code,
                title=s.risk.title,
                owner=s.risk.owner,
                owner_agency=s.risk.owner_agency.code,
                likelihood=s.likelihood,
                impact=s.impact,
                target_likelihood=s.target_likelihood,
                target_impact=s.target_impact,
                status_label=s.get_status_display(),
                next_review_due=s.next_review_due,
            )
            for s in rows
        ]
    risks = risks_on_register().select_related("owner_agency").order_by("-score", "code")
    return [
        RegisterRow(
            code=r.code,
            title=r.title,
            owner=r.owner,
            owner_agency=r.owner_agency.code,
            likelihood=r.likelihood,
            impact=r.impact,
            target_likelihood=r.target_likelihood,
            target_impact=r.target_impact,
            status_label=r.get_status_display(),
            next_review_due=r.next_review_due,
        )
        for r in risks
    ]


def trigger_entries_of(*, risk_ids: list[int]) -> dict[int, list[TriggerEntry]]:
    """The whole trigger log of each risk, oldest first, by risk id. One query."""
    found: dict[int, list[TriggerEntry]] = {}
    for entry in (
        TriggerEntry.objects.filter(risk_id__in=risk_ids)
        .select_related("recorded_by")
        .order_by("sequence")
    ):
        found.setdefault(entry.risk_id, []).append(entry)
    return found
