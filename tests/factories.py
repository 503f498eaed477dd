"""factory-boy factories for every model the tests create."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from risks import rules
from risks.models import (
    Assessment,
    Confidence,
    Indicator,
    MitigationAction,
    Risk,
    TriggerEntry,
)
from risks.services import contingency_invoke, contingency_stand_down, contingency_update
from roadmap.models import Agency, KeyAction, Metric, MetricReading, MetricTarget, Phase


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.gov")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.LazyAttribute(lambda a: f"Agency {a.code}")
    contact_emails = factory.LazyAttribute(lambda a: f"risk@{a.code.lower()}.example.gov")


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase
        django_get_or_create = ["number"]

    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda p: f"Phase {p.number}")
    start_year = 1
    end_year = 2


class KeyActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyAction
        skip_postgeneration_save = True

    phase = factory.SubFactory(PhaseFactory, number=1)
    title = factory.Sequence(lambda n: f"Key action {n}")
    lead_actor = "ONDCP"
    timeline = "Months 1-6"
    start_month = 1
    end_month = 6
    success_metric = "Done"

    @factory.post_generation
    def lead_agencies(self, create, extracted, **kwargs):
        if create:
            self.lead_agencies.set(extracted or [AgencyFactory(code="ONDCP")])


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric

    name = factory.Sequence(lambda n: f"Metric {n}")
    unit = "Count"
    milestone_year = 5
    direction = Metric.Direction.INCREASE
    baseline = "0"
    baseline_low = 0
    baseline_high = 0


class MetricTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricTarget

    metric = factory.SubFactory(MetricFactory)
    year = 3
    target = "10"
    value_low = 10
    value_high = 10


class MetricReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricReading

    metric = factory.SubFactory(MetricFactory)
    observed_on = factory.LazyFunction(datetime.date.today)
    value = 5
    source = "Programme report"


class RiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Risk
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"T{n}")
    title = factory.Sequence(lambda n: f"Test risk {n}")
    statement = "Because of a cause, an event may happen, with a consequence."
    category = Risk.Category.POLITICAL
    owner = "Jane Doe"
    owner_agency = factory.SubFactory(AgencyFactory, code="ONDCP")
    likelihood = 3
    impact = 3
    score = factory.LazyAttribute(lambda r: rules.score(r.likelihood, r.impact))
    target_likelihood = 2
    target_impact = 2
    mitigation_strategy = "Reduce it."
    contingency_plan = "If it happens, respond."
    next_review_due = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(90))
    last_assessed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def phases(self, create, extracted, **kwargs):
        if create and extracted:
            self.phases.set(extracted)

    @factory.post_generation
    def assessed(self, create, extracted, **kwargs):
        # Every risk in the register has at least the assessment that set its rating.
        if create and extracted is not False:
            AssessmentFactory(
                risk=self,
                likelihood=self.likelihood,
                impact=self.impact,
                assessed_at=self.last_assessed_at or timezone.now(),
            )


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    risk = factory.SubFactory(RiskFactory, assessed=False)
    assessed_at = factory.LazyFunction(timezone.now)
    likelihood = 3
    impact = 3
    confidence = Confidence.MEDIUM
    rationale = "Initial rating."


class MitigationActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MitigationAction

    risk = factory.SubFactory(RiskFactory)
    title = factory.Sequence(lambda n: f"Mitigation {n}")
    owner_agency = factory.SubFactory(AgencyFactory, code="STATE")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(60))


class TriggerEntryFactory(factory.django.DjangoModelFactory):
    """Entries exist only through the services, which chain and hash them: `kind` picks the
    service (an `update` or `stood_down` needs an active contingency first)."""

    class Meta:
        model = TriggerEntry

    risk = factory.SubFactory(RiskFactory)
    recorded_by = factory.SubFactory(UserFactory, groups=["Staff"])  # Staff record entries
    kind = TriggerEntry.Kind.INVOKED
    reason = factory.Sequence(lambda n: f"Trigger condition met ({n}).")
    evidence = "Field report."
    actions_taken = "Plan activated."
    authorised_by = "Deputy Director"

    @classmethod
    def _create(cls, model_class, *, risk, recorded_by, kind, **text):
        write = {
            TriggerEntry.Kind.INVOKED: contingency_invoke,
            TriggerEntry.Kind.UPDATE: contingency_update,
            TriggerEntry.Kind.STOOD_DOWN: contingency_stand_down,
        }[kind]
        return write(risk=risk, user=recorded_by, **text)


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    risk = factory.SubFactory(RiskFactory)
    metric = factory.SubFactory(MetricFactory)
    comparison = Indicator.Comparison.ABOVE
    threshold = 30000
    description = "Drug-related homicides a year."
