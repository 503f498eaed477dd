"""Synthetic risks at scale on top of the seed, for benchmarks and load tests.

Everything is written with bulk inserts, so model save() methods, signals and
django-simple-history are skipped; each record then gets its dated baseline history row
(history_baseline_all). The values save() would derive (score, version) and the trigger
log's hash chain are computed here exactly as the services compute them, and the database
constraints check the rest.

At 100,000 risks the rows number about 1.5 million: the bulk ones (risks, their links,
assessments, mitigations) are generated as plain tuples, not model instances, and written
with COPY on PostgreSQL (common.bulk.rows_insert). See docs/benchmarks.md, "100,000 risks".
"""

from __future__ import annotations

import contextlib
import datetime
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from common.bulk import load_deferred, rows_insert
from common.history import history_tables
from risks import rules
from risks.models import (
    Assessment,
    Confidence,
    Indicator,
    IndicatorBreach,
    MitigationAction,
    RatingBand,
    Risk,
    TriggerChainHead,
    TriggerCheckpoint,
    TriggerEntry,
)
from risks.selectors import rating_scale
from risks.services import history_baseline_all
from risks.signals import register_changed
from risks.trigger_chain import checkpoint_sign, entry_digest
from roadmap.models import Agency, KeyAction, Metric, MetricReading, Phase

DAY = datetime.timedelta(days=1)
CHUNK = 1000  # risks generated and inserted at a time: memory stays flat for any --risks
# The columns of the rows generated as tuples (common.bulk.rows_insert); a child row starts
# with its risk's index in the chunk, replaced by the risk's key once the risks are in.
RISK_FIELDS = (
    "code", "title", "statement", "category", "owner", "owner_agency_id",
    "inherent_likelihood", "inherent_impact", "likelihood", "impact", "score",
    "target_likelihood", "target_impact", "confidence", "last_assessed_at", "response",
    "mitigation_strategy", "contingency_plan", "trigger_conditions", "status",
    "review_frequency_days", "next_review_due", "closure_reason", "closed_by_id", "closed_at",
    "created_at", "updated_at", "version",
)  # fmt: skip
ASSESSMENT_FIELDS = (
    "risk_id", "assessed_at", "assessed_by_id", "likelihood", "impact", "confidence", "rationale",
)  # fmt: skip
MITIGATION_FIELDS = (
    "risk_id", "title", "owner_agency_id", "key_action_id", "due_date", "status",
    "percent_complete", "created_at", "updated_at", "version",
)  # fmt: skip
LINKS = {"phases": "phase_id", "key_actions": "keyaction_id", "supporting_agencies": "agency_id"}
ANALYSTS = [f"synthetic.analyst{n:02d}" for n in range(1, 13)]

# Weights, so the register looks like a real one: more medium than extreme ratings, most
# risks open, a few with an active contingency.
LEVEL_WEIGHTS = [10, 24, 32, 22, 12]
LEVELS, LEVEL_CUMULATIVE = range(1, 6), list(accumulate(LEVEL_WEIGHTS))
CATEGORY_WEIGHTS = {
    Risk.Category.POLITICAL: 14,
    Risk.Category.DIPLOMATIC: 18,
    Risk.Category.SECURITY: 14,
    Risk.Category.PROGRAMMATIC: 22,
    Risk.Category.FINANCIAL: 12,
    Risk.Category.OPERATIONAL: 14,
    Risk.Category.LEGAL: 6,
}
AGENCY_WEIGHTS = {"STATE": 18, "INL": 16, "ONDCP": 14, "USAID": 14, "DEA": 10, "NSC": 6}
RESPONSE_WEIGHTS = {"reduce": 60, "accept": 15, "share": 12, "avoid": 13}
CONFIDENCE_WEIGHTS = {Confidence.LOW: 20, Confidence.MEDIUM: 55, Confidence.HIGH: 25}

REGIONS = [
    "Colombia", "Peru", "Bolivia", "Mexico", "Central America", "the Caribbean", "Ecuador",
    "West Africa", "Afghanistan", "Myanmar", "Laos", "the Balkans", "South Asia", "Canada",
]  # fmt: skip
EVENTS = {
    "political": ["appropriations are delayed", "a committee blocks authorization",
                  "partner-government elections reverse commitments"],
    "diplomatic": ["partners withdraw from the coalition", "a CND vote fails",
                   "bilateral talks stall"],
    "security": ["trafficking violence rises", "field staff face threats",
                 "eradication teams are attacked"],
    "programmatic": ["pilot sites miss enrolment targets", "farmers return to coca",
                     "evaluation data arrive late"],
    "financial": ["funding is reprogrammed", "costs exceed the estimate",
                  "disbursements are frozen"],
    "operational": ["implementing partners lack capacity", "procurement is delayed",
                    "monitoring systems fail"],
    "legal": ["a court enjoins the programme", "treaty review finds non-compliance",
              "precursor rules are challenged"],
}  # fmt: skip
ROLES = ["Deputy Assistant Secretary", "Programme Director", "Senior Advisor", "Office Director",
         "Country Team Lead", "Chief of Staff", "Regional Coordinator"]  # fmt: skip
MITIGATIONS = [
    "Brief committee staff on evaluation results", "Agree a joint work plan with partners",
    "Fund an independent monitoring contract", "Pre-position contingency funding",
    "Train partner-country officials", "Publish quarterly progress data",
    "Establish an escalation channel to the NSC", "Negotiate a memorandum of understanding",
    "Commission a legal review", "Recruit additional field staff",
]  # fmt: skip
REASSESSMENTS = [
    "Quarterly review: no material change in the evidence.",
    "New reporting from the embassy changes the likelihood.",
    "Mitigation progress reduces the expected impact.",
    "Board challenge: rating revisited against the scale definitions.",
    "Indicator reading moved towards the threshold.",
    "Budget outcome known; impact re-estimated.",
]
CLOSURES = [
    "The key action it threatened is complete.",
    "Superseded by a broader risk on the register.",
    "The triggering condition can no longer occur.",
]


@dataclass
class Batch:
    """The rows generated for one chunk of risks; children refer to their risk by index."""

    risks: list[tuple] = field(default_factory=list)  # RISK_FIELDS
    links: dict[str, list[tuple[int, int]]] = field(
        default_factory=lambda: {name: [] for name in LINKS}
    )  # name: (risk index, pk)
    assessments: list[tuple] = field(default_factory=list)  # ASSESSMENT_FIELDS
    mitigations: list[tuple] = field(default_factory=list)  # MITIGATION_FIELDS
    entries: list[tuple[int, TriggerEntry]] = field(default_factory=list)
    indicators: list[tuple[int, Indicator, str]] = field(default_factory=list)  # risk status


@contextlib.contextmanager
def explicit_timestamps(*fields):
    """bulk_create fills auto_now/auto_now_add fields with the current time; history needs
    the generated ones, so switch them off for the duration."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    try:
        for f, _, _ in saved:
            f.auto_now = f.auto_now_add = False
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _field(model, name):
    return model._meta.get_field(name)


class Command(BaseCommand):
    help = (
        "Add N synthetic risks (codes G00001...) with about ten assessments each, 1-4 "
        "mitigations, trigger log entries on a valid hash chain, indicators and metric "
        "readings. Needs the seed (python manage.py loaddata roadmap). Deterministic for a "
        "given --seed and --as-of. Bulk inserts: the generated rows have no simple-history "
        "change history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--risks", type=int, required=True, help="How many risks to add.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed (default: random).")
        parser.add_argument(
            "--as-of",
            type=datetime.date.fromisoformat,
            default=None,
            help="YYYY-MM-DD: the generated history ends the day before (default: today).",
        )
        parser.add_argument("--years", type=int, default=3, help="Years of history (default 3).")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, **options) -> None:
        if options["risks"] < 1:
            raise CommandError("--risks must be at least 1.")
        seed = (
            options["seed"]
            if options["seed"] is not None
            else random.SystemRandom().getrandbits(32)
        )
        started = time.perf_counter()
        generator = Generator(
            seed=seed,
            as_of=options["as_of"] or datetime.date.today(),
            years=options["years"],
            batch_size=options["batch_size"],
        )
        links = [getattr(Risk, name).through for name in LINKS]
        bulk = [Risk, Assessment, MitigationAction, *links]
        with transaction.atomic():
            # The big tables' secondary indexes and foreign keys are built once, after their
            # rows (PostgreSQL): first the register's, which the baselines read, then the
            # history's.
            with load_deferred(*bulk):
                counts = generator.run(options["risks"])
            with load_deferred(*history_tables(Risk), *history_tables(MitigationAction)):
                # Bulk inserts write no history: give each record its dated baseline row.
                history_baseline_all(reason=f"baseline: generate_register --seed {seed}")
            # Bulk inserts send no signals: cached answers (the heatmap, the scale) are stale.
            register_changed()
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{n} {name}" for name, n in counts.items())
        self.stdout.write(f"Generated with seed {seed} in {elapsed:.1f} s: {summary}.")


class Generator:
    def __init__(self, *, seed: int, as_of: datetime.date, years: int, batch_size: int):
        self.rng = random.Random(seed)  # noqa: S311  # nosec B311 - synthetic data, reproducible by design
        self.seed = seed
        self.end = datetime.datetime.combine(as_of, datetime.time.min, tzinfo=datetime.UTC)
        self.start = self.end - datetime.timedelta(days=365 * years)
        self.batch_size = batch_size
        self.scale = rating_scale()
        self.counts = dict.fromkeys(
            ["risks", "assessments", "mitigations", "trigger entries", "indicators",
             "indicator breaches", "metric readings"], 0
        )  # fmt: skip
        self._load_reference_data()

    def _load_reference_data(self) -> None:
        self.agencies = list(Agency.objects.order_by("code"))
        self.phases = {p.number: p.pk for p in Phase.objects.all()}
        self.metrics = list(Metric.objects.order_by("position", "pk"))
        if not (self.agencies and self.phases and self.metrics):
            raise CommandError("Load the seed first: python manage.py loaddata roadmap")
        if not RatingBand.objects.exists():
            raise CommandError("No rating bands: run python manage.py migrate first.")
        self.agency_cumulative = list(
            accumulate(AGENCY_WEIGHTS.get(a.code, 3) for a in self.agencies)
        )
        self.other_agencies = {
            owner.pk: [a for a in self.agencies if a.pk != owner.pk] for owner in self.agencies
        }
        self._cumulative: dict[int, tuple[list, list]] = {}
        self.key_actions: dict[int, list[int]] = {}
        for pk, number in KeyAction.objects.values_list("pk", "phase__number"):
            self.key_actions.setdefault(number, []).append(pk)
        User = get_user_model()
        staff = Group.objects.get(name="Staff")
        self.users = []
        for username in ANALYSTS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_active": False, "email": f"{username}@example.gov"}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            # They record trigger log entries, which only Staff may do.
            user.groups.add(staff)
            self.users.append(user)
        self.user_ids = [user.pk for user in self.users]
        codes = Risk.objects.filter(code__regex=r"^G[0-9]+$").values_list("code", flat=True)
        self.next_number = max((int(code[1:]) for code in codes.iterator()), default=0) + 1

    # --- one risk ---------------------------------------------------------------------

    def _pick(self, weights: dict):
        # choices() with the cumulative weights, worked out once: the same draw as with the
        # weights themselves (which choices() accumulates on every call).
        if (cached := self._cumulative.get(id(weights))) is None:
            cached = self._cumulative[id(weights)] = (
                list(weights),
                list(accumulate(weights.values())),
            )
        return self.rng.choices(cached[0], cum_weights=cached[1])[0]

    def _level(self) -> int:
        return self.rng.choices(LEVELS, cum_weights=LEVEL_CUMULATIVE)[0]

    def _moment(self, low: datetime.datetime, high: datetime.datetime) -> datetime.datetime:
        # Whole seconds: the trigger log's hashes must survive a JSON backup (milliseconds).
        span = max(int((high - low).total_seconds()), 1)
        return low + datetime.timedelta(seconds=self.rng.randrange(span))

    def _risk(self, batch: Batch, number: int) -> None:
        rng, index = self.rng, len(batch.risks)
        category = self._pick(CATEGORY_WEIGHTS)
        agency = rng.choices(self.agencies, cum_weights=self.agency_cumulative)[0]
        region = rng.choice(REGIONS)
        event = rng.choice(EVENTS[category])
        likelihood, impact = self._level(), self._level()
        score = rules.score(likelihood, impact)
        created = self._moment(self.start, self.end - 90 * DAY)
        roll = rng.random()
        active_share = 0.08 if score >= 15 else 0.01
        if roll < 0.10:
            status = Risk.Status.CLOSED
        elif roll < 0.10 + active_share:
            status = Risk.Status.CONTINGENCY_ACTIVE
        elif roll < 0.40:
            status = Risk.Status.MONITORING
        else:
            status = Risk.Status.OPEN

        frequency = rng.choice([30, 60, 90]) if rng.random() < 0.1 else None
        days = frequency or self.scale.band_for(score).review_frequency_days
        closed_at = closed_by = next_review = None
        if status == Risk.Status.CLOSED:
            closed_at = self._moment(created + 60 * DAY, self.end)
            last_assessed = self._moment(created + 30 * DAY, closed_at - DAY)
            closed_by = rng.choice(self.user_ids)
        else:
            # Reviewed about on time: roughly one open risk in five is overdue.
            since = max(created + 30 * DAY, self.end - DAY * int(days * 1.25))
            last_assessed = self._moment(since, self.end)
            next_review = rules.next_review_due(
                reviewed_on=last_assessed.date(), frequency_days=days
            )
        first_l, first_i, confidence = self._history(
            batch, index, created, last_assessed, likelihood, impact
        )
        # The random draws in the order the fields were always drawn (same seed, same rows).
        inherent = rng.random() < 0.6
        owner = f"{rng.choice(ROLES)}, {agency.code}"
        inherent_likelihood = min(5, first_l + rng.choice([0, 1, 1])) if inherent else None
        inherent_impact = min(5, first_i + rng.choice([0, 0, 1])) if inherent else None
        target_likelihood = max(1, likelihood - rng.choice([0, 1, 1, 2]))
        target_impact = max(1, impact - rng.choice([0, 0, 1]))
        response = self._pick(RESPONSE_WEIGHTS)
        closure_reason = rng.choice(CLOSURES) if closed_at else ""
        code = f"G{number:05d}"
        batch.risks.append(
            (
                code,
                f"{category.label} risk in {region}: {event}"[:200],
                f"Because {agency.name} depends on partners in {region}, {event}, so that the "
                f"{category.label.lower()} objectives of the roadmap slip.",
                category.value,
                owner,
                agency.pk,
                inherent_likelihood,
                inherent_impact,
                likelihood,
                impact,
                score,
                target_likelihood,
                target_impact,
                confidence,
                last_assessed,
                response,
                f"Work with partners in {region} to prevent that {event}.",
                f"If {event}, convene the interagency working group within a week.",
                f"Reporting from {region} shows that {event}.",
                status.value,
                frequency,
                next_review,
                closure_reason,
                closed_by,
                closed_at,
                created,
                closed_at or last_assessed,
                1,
            )
        )
        related = self._relations(batch, index, agency)
        self._mitigations(batch, index, created, agency.pk, related)
        self._trigger_entries(batch, index, code, status, created, closed_at)
        if rng.random() < 0.08:
            self._indicator(batch, index, code, status)

    def _history(self, batch, index, created, last, likelihood, impact) -> tuple[int, int, str]:
        """About ten assessments from creation to `last`, the latest being the current
        rating; earlier ones walk back from it. Returns the first rating and the latest
        confidence."""
        rng = self.rng
        count = rng.randint(6, 14)
        span = int((last - created).total_seconds())
        offsets = sorted(rng.sample(range(1, span), count - 2)) if count > 2 else []
        moments = [created, *(created + datetime.timedelta(seconds=s) for s in offsets), last]
        ratings = [(likelihood, impact)]
        for _ in moments[1:]:
            lv, iv = ratings[-1]
            if rng.random() < 0.4:
                if rng.random() < 0.5:
                    lv = min(5, max(1, lv + rng.choice([1, 1, -1])))
                else:
                    iv = min(5, max(1, iv + rng.choice([1, -1])))
            ratings.append((lv, iv))
        ratings.reverse()
        for position, (moment, (lv, iv)) in enumerate(zip(moments, ratings, strict=True)):
            rationale = (
                "Initial rating on entry to the register."
                if position == 0
                else rng.choice(REASSESSMENTS)
            )
            assessed_by = None if rng.random() < 0.05 else rng.choice(self.user_ids)
            confidence = self._pick(CONFIDENCE_WEIGHTS).value
            batch.assessments.append((index, moment, assessed_by, lv, iv, confidence, rationale))
        return (*ratings[0], confidence)

    def _relations(self, batch: Batch, index: int, owner: Agency) -> dict[str, list[int]]:
        """The risk's phases, key actions and supporting agencies; returns them by name."""
        rng = self.rng
        first = rng.choices([1, 2, 3], weights=[40, 40, 20])[0]
        numbers = range(first, rng.randint(first, 3) + 1)
        related = {"phases": [self.phases[number] for number in numbers]}
        actions = [pk for number in numbers for pk in self.key_actions.get(number, [])]
        related["key_actions"] = rng.sample(actions, min(len(actions), rng.randint(0, 3)))
        others = self.other_agencies[owner.pk]
        related["supporting_agencies"] = [
            agency.pk for agency in rng.sample(others, rng.choice([0, 1, 1, 2, 2, 3]))
        ]
        for name, pks in related.items():
            batch.links[name] += [(index, pk) for pk in pks]
        return related

    def _mitigations(self, batch, index, created_at, owner_agency_id, related) -> None:
        rng = self.rng
        agencies = [owner_agency_id] * 3 + related["supporting_agencies"]
        actions = [*related["key_actions"], None]
        for _ in range(rng.randint(1, 4)):
            due = created_at.date() + DAY * rng.randint(30, 1100)
            passed = due < self.end.date()
            status = rng.choices(
                ["planned", "in_progress", "blocked", "done", "cancelled"],
                weights=[10, 25, 10, 45, 10] if passed else [40, 40, 8, 7, 5],
            )[0]
            percent = {
                "planned": 0,
                "done": 100,
                "in_progress": rng.randrange(10, 95, 5),
                "blocked": rng.randrange(5, 65, 5),
                "cancelled": rng.randrange(0, 55, 5),
            }[status]
            created = self._moment(created_at, created_at + 30 * DAY)
            title = rng.choice(MITIGATIONS)
            agency = rng.choice(agencies)
            action = rng.choice(actions)
            batch.mitigations.append(
                (index, title, agency, action, due, status, percent, created, created, 1)
            )

    def _entry(self, batch, index, code, kind, moment, previous_status) -> None:
        rng = self.rng
        batch.entries.append(
            (
                index,
                TriggerEntry(
                    kind=kind,
                    recorded_at=moment,
                    recorded_by=rng.choice(self.users),
                    reason={
                        "invoked": "Trigger conditions met according to field reporting.",
                        "update": "Contingency actions under way; situation report attached.",
                        "stood_down": "Conditions no longer met; normal monitoring resumes.",
                    }[kind],
                    evidence="Embassy cable and partner-government statistics.",
                    actions_taken="Working group convened; contingency plan steps 1-3 done.",
                    authorised_by=f"{rng.choice(ROLES)}, {rng.choice(self.agencies).code}",
                    previous_status=previous_status,
                    risk_code=code,
                ),
            )
        )

    def _trigger_entries(self, batch, index, code, status, created_at, closed_at) -> None:
        """An active contingency has its invocation (and updates) in the log; some other
        risks had one that was stood down."""
        rng = self.rng
        if status == Risk.Status.CONTINGENCY_ACTIVE:
            invoked = self._moment(max(created_at, self.end - 270 * DAY), self.end - 2 * DAY)
            previous = rng.choice([Risk.Status.OPEN, Risk.Status.MONITORING])
            self._entry(batch, index, code, "invoked", invoked, previous)
            for moment in sorted(self._moment(invoked, self.end) for _ in range(rng.randint(0, 3))):
                self._entry(batch, index, code, "update", moment, status)
        elif rng.random() < 0.04:
            until = closed_at or self.end
            invoked = self._moment(created_at, until - 20 * DAY)
            stood_down = self._moment(invoked + DAY, until - DAY)
            restored = Risk.Status.OPEN if closed_at else status
            self._entry(batch, index, code, "invoked", invoked, restored)
            self._entry(
                batch, index, code, "stood_down", stood_down, Risk.Status.CONTINGENCY_ACTIVE
            )

    def _indicator(self, batch: Batch, index: int, code: str, status: str) -> None:
        # Thresholds sit around the latest reading, so about one indicator in four is crossed.
        metric = self.rng.choice(self.metrics)
        latest = self.latest[metric.pk].value
        increase = metric.direction == Metric.Direction.INCREASE
        worse = "below" if increase else "above"
        factor = Decimal(self.rng.choice([70, 80, 90, 105] if increase else [95, 110, 120, 130]))
        indicator = Indicator(
            metric=metric,
            comparison=worse,
            threshold=(latest * factor / 100).quantize(Decimal("0.01")),
            description=f"Early warning for {code}.",
            active=status != Risk.Status.CLOSED,
        )
        batch.indicators.append((index, indicator, status))

    # --- inserts ----------------------------------------------------------------------

    def run(self, total: int) -> dict[str, int]:
        head, _ = TriggerChainHead.objects.select_for_update().get_or_create(pk=1)
        first_code = f"G{self.next_number:05d}"
        entries: list[TriggerEntry] = []
        indicators: list[tuple[Indicator, str]] = []
        timestamps = explicit_timestamps(
            _field(Risk, "created_at"),
            _field(Risk, "updated_at"),
            _field(MitigationAction, "created_at"),
            _field(MitigationAction, "updated_at"),
            _field(MetricReading, "recorded_at"),
        )
        with timestamps:
            self._readings(total, first_code)
            for offset in range(0, total, CHUNK):
                batch = Batch()
                for n in range(min(CHUNK, total - offset)):
                    self._risk(batch, self.next_number + offset + n)
                self._insert(batch)
                entries += [entry for _, entry in batch.entries]
                indicators += [(indicator, status) for _, indicator, status in batch.indicators]
            self._chain(head, entries)
            self._breaches(indicators)
        return self.counts

    def _insert(self, batch: Batch) -> None:
        keys = rows_insert(Risk, RISK_FIELDS, batch.risks, ids=True)
        for name, column in LINKS.items():
            through = getattr(Risk, name).through
            rows = [(keys[index], pk) for index, pk in batch.links[name]]
            rows_insert(through, ("risk_id", column), rows)
        for model, fields, rows in (
            (Assessment, ASSESSMENT_FIELDS, batch.assessments),
            (MitigationAction, MITIGATION_FIELDS, batch.mitigations),
        ):
            rows_insert(model, fields, [(keys[row[0]], *row[1:]) for row in rows])
        for index, entry in batch.entries:
            entry.risk_id = keys[index]
        for index, indicator, _ in batch.indicators:
            indicator.risk_id = keys[index]
        indicators = [indicator for _, indicator, _ in batch.indicators]
        Indicator.objects.bulk_create(indicators, batch_size=self.batch_size)
        self.counts["risks"] += len(keys)
        self.counts["assessments"] += len(batch.assessments)
        self.counts["mitigations"] += len(batch.mitigations)
        self.counts["indicators"] += len(batch.indicators)

    def _chain(self, head: TriggerChainHead, entries: list[TriggerEntry]) -> None:
        """Link the new entries after the head, in time order, and sign each new head, exactly
        as the services do. Times only increase along the chain: an entry generated before the
        last one already in the log is moved just after it."""
        entries.sort(key=lambda entry: (entry.recorded_at, entry.risk_code))
        sequence, previous = head.sequence, head.entry_hash
        last = TriggerEntry.objects.filter(sequence=sequence).values_list("recorded_at")
        last_time = last[0][0] if sequence and last else None
        checkpoints = []
        for entry in entries:
            sequence += 1
            if last_time is not None and entry.recorded_at <= last_time:
                entry.recorded_at = last_time + datetime.timedelta(milliseconds=1)
            last_time = entry.recorded_at
            entry.sequence, entry.prev_hash = sequence, previous
            entry.recorded_by_username = entry.recorded_by.get_username()
            entry.entry_hash = previous = entry_digest(entry)
            checkpoints.append(
                checkpoint_sign(
                    entry=entry,
                    sequence=sequence,
                    entry_hash=entry.entry_hash,
                    signed_at=entry.recorded_at,
                )
            )
        TriggerEntry.objects.bulk_create(entries, batch_size=self.batch_size)
        TriggerCheckpoint.objects.bulk_create(checkpoints, batch_size=self.batch_size)
        if entries:
            head.sequence, head.entry_hash = sequence, previous
            head.full_clean()
            head.save()
        self.counts["trigger entries"] += len(entries)

    def _readings(self, total: int, first_code: str) -> None:
        """Weekly readings of every metric, about one per ten risks in all, drifting from the
        baseline in the direction the roadmap wants."""
        rng = self.rng
        per_metric = max(1, total // 10 // len(self.metrics))
        source = f"Synthetic series from {first_code} (generate_register, seed {self.seed})"
        readings, self.latest = [], {}
        for metric in self.metrics:
            value = metric.baseline_low or Decimal(0)
            drift = 1 if metric.direction == Metric.Direction.INCREASE else -1
            for week in range(per_metric, 0, -1):
                step = Decimal(rng.uniform(-0.02, 0.03) * drift) * max(value, Decimal(10))
                value = max(Decimal(0), value + step).quantize(Decimal("0.01"))
                observed = self.end.date() - DAY * 7 * week
                reading = MetricReading(
                    metric=metric,
                    observed_on=observed,
                    value=value,
                    source=source[:300],
                    recorded_by=rng.choice(self.users),
                    recorded_at=datetime.datetime.combine(
                        observed + DAY, datetime.time(9), tzinfo=datetime.UTC
                    ),
                )
                readings.append(reading)
                self.latest[metric.pk] = reading
        MetricReading.objects.bulk_create(readings, batch_size=self.batch_size)
        self.counts["metric readings"] += len(readings)

    def _breaches(self, indicators: list[tuple[Indicator, str]]) -> None:
        """A crossed indicator of an open risk flags it for trigger review."""
        latest = self.latest
        breaches = [
            IndicatorBreach(
                indicator=indicator,
                reading=latest[indicator.metric_id],
                detected_at=latest[indicator.metric_id].recorded_at,
            )
            for indicator, status in indicators
            if status in (Risk.Status.OPEN, Risk.Status.MONITORING)
            and indicator.crossed_by(latest[indicator.metric_id].value)
        ]
        IndicatorBreach.objects.bulk_create(breaches, batch_size=self.batch_size)
        self.counts["indicator breaches"] += len(breaches)
