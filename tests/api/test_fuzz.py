"""Every documented operation, fuzzed from the OpenAPI schema (schemathesis) against the live
server with an auditor's and a staff member's token: no input may cause a 5xx. Two phases: each
operation alone (valid and invalid data), then stateful sequences that feed one answer's ids
and codes into the next call (links schemathesis infers from the schema). Bounded by example
counts so the whole file runs in a few minutes; marked slow, and `make test` runs it."""

from __future__ import annotations

import datetime
import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import UserRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from accounts.services import token_create
from risks.models import Assessment, BoardReview, IndicatorBreach, MitigationAction, Risk
from roadmap.models import KeyAction, Metric
from roadmap.services import metric_reading_record
from tests.factories import IndicatorFactory, TriggerEntryFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Per operation and generation mode (valid input, then invalid): bounded and repeatable.
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}
# Stateful: scenarios of up to STEPS calls, valid and invalid data mixed.
SCENARIOS, STEPS = 25, 6
# A reader's writes stop at the permission check: a few examples show it holds.
READER_WRITES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 2}


def _schema() -> dict:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


def _path_parameters(staff_member) -> dict[str, dict]:
    """Real records for each resource's path parameter, so fuzzing reaches past the 404."""
    metric = Metric.objects.order_by("pk").first()
    indicator = IndicatorFactory(risk=Risk.objects.get(code="R5"), metric=metric, threshold=1)
    metric_reading_record(
        metric=metric,
        observed_on=datetime.date(2027, 1, 1),
        value=5,
        source="Fuzz",
        user=staff_member,
    )
    entry = TriggerEntryFactory(risk=Risk.objects.get(code="R2"), recorded_by=staff_member)
    BoardReview.objects.create(
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 31),
        attendees="Chair",
        created_by=staff_member,
    )
    return {
        "risks": {"code": "R3"},
        "agencies": {"code": "STATE"},
        "phases": {"number": 1},
        "reviews": {"quarter": "2027-Q1"},
        "triggers": {"sequence": entry.sequence},
        "assessments": {"id": Assessment.objects.order_by("pk").first().pk},
        "mitigations": {"id": MitigationAction.objects.order_by("pk").first().pk},
        "key-actions": {"id": KeyAction.objects.order_by("pk").first().pk},
        "metrics": {"id": metric.pk},
        "indicators": {"id": indicator.pk},
        "breaches": {"id": IndicatorBreach.objects.order_by("pk").first().pk},
    }


def _fuzz(
    operation, mode, examples: int, *, base_url: str, auth: dict, path_parameters: dict
) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        response = case.call(base_url=base_url, headers=auth)
        case.validate_response(response, checks=[not_a_server_error])

    run()


@pytest.mark.parametrize("persona", ["auditor", "staff_member"])
def test_no_documented_operation_answers_5xx(request, live_server, seed, monkeypatch, persona):
    # The fuzzing sends more requests than the hourly user rate allows.
    monkeypatch.setattr(
        UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": None}
    )
    user = request.getfixturevalue(persona)
    staff_member = request.getfixturevalue("staff_member")
    _, key = token_create(user=user, name="fuzz")
    auth = {"Authorization": f"Token {key}"}
    records = _path_parameters(staff_member)
    schema = schemathesis.openapi.from_dict(_schema())

    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        resource = operation.path.split("/")[3]
        path_parameters = {
            name: value
            for name, value in records.get(resource, {}).items()
            if "{" + name + "}" in operation.path
        }
        operations += 1
        reader_write = persona == "auditor" and operation.method.upper() != "GET"
        for mode, examples in (READER_WRITES if reader_write else EXAMPLES).items():
            try:
                _fuzz(
                    operation,
                    mode,
                    examples,
                    base_url=live_server.url,
                    auth=auth,
                    path_parameters=path_parameters,
                )
            except Unsatisfiable:
                # Nothing to get wrong: no parameters, no body, and no sign-in required (the
                # trigger log's public key). Positive cases still run.
                if mode != GenerationMode.NEGATIVE:
                    raise
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} ({mode.value}): {exc}")

    assert operations >= 40
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("persona", ["auditor", "staff_member"])
def test_no_sequence_of_operations_answers_5xx(request, live_server, seed, monkeypatch, persona):
    monkeypatch.setattr(
        UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": None}
    )
    user = request.getfixturevalue(persona)
    _path_parameters(request.getfixturevalue("staff_member"))
    _, key = token_create(user=user, name="fuzz")
    auth = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_dict(_schema())
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    machine = schema.as_state_machine()
    assert machine.bundles, "schemathesis inferred no links between operations"

    answered: list[int] = []

    class Scenarios(machine):
        def get_call_kwargs(self, case):
            return {"base_url": live_server.url, "headers": auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            answered.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

    Scenarios.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert len(answered) >= SCENARIOS
