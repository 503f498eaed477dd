"""Control characters: one-line fields refuse every control character and line break;
multi-line text refuses control characters other than tab and line breaks. The admin, the API,
the services (and so the import) give the same refusal (common/text.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.services import token_create
from common.text import MultiLineField, SingleLineField, multi_line, single_line
from risks.models import Risk
from tests.factories import AgencyFactory, PhaseFactory, RiskFactory
from tests.risks import test_import
from tests.risks.test_admin import form_data
from tests.risks.test_import import _import, _write_csv

pytestmark = pytest.mark.django_db

board_csv = test_import.exported  # the board's CSV of the seed, as a fixture


@pytest.mark.parametrize(
    "text", ["a\nb", "a\rb", "a\tb", "nul\x00", "esc\x1b[31m", "del\x7f", "c1\x85", "ls\u2028"]
)
def test_one_line_text_refuses_control_characters(text):
    with pytest.raises(ValidationError) as refused:
        single_line(text)
    assert refused.value.code == "control_characters"


@pytest.mark.parametrize("text", ["Plain title", "Ünïcödé \u2013 dash", "R&D \u2018quotes\u2019"])
def test_one_line_text_keeps_ordinary_text(text):
    single_line(text)


def test_multi_line_text_keeps_tabs_and_line_breaks_only():
    multi_line("First line\r\nsecond\tcolumn\n")
    for bad in ("bell\x07", "nul\x00", "esc\x1b", "vt\x0b", "del\x7f"):
        with pytest.raises(ValidationError):
            multi_line(bad)


def test_every_text_field_of_the_register_and_the_plan_is_covered():
    from django.apps import apps
    from django.db import models

    for label in ("risks", "roadmap"):
        for model in apps.get_app_config(label).get_models():
            if model.__name__.startswith("Historical"):
                continue  # written by django-simple-history from the checked rows
            for field in model._meta.get_fields():
                # (Email and URL fields have validators of their own that refuse these.)
                if type(field) is models.CharField:
                    raise AssertionError(f"{model.__name__}.{field.name} is a plain CharField")
                if type(field) is models.TextField:
                    raise AssertionError(f"{model.__name__}.{field.name} is a plain TextField")
    assert isinstance(Risk._meta.get_field("title"), SingleLineField)
    assert isinstance(Risk._meta.get_field("statement"), MultiLineField)


def test_the_admin_refuses_a_line_break_in_a_title(staff_member):
    risk = RiskFactory(title="Before")
    client = Client()
    client.force_login(staff_member)
    change = reverse("admin:risks_risk_change", args=(risk.pk,))
    data = form_data(client.get(change))
    data["title"] = "Line one\nBcc: everyone@example.gov"
    response = client.post(change, data)
    assert response.status_code == 200
    assert "may not hold control characters" in response.content.decode()
    risk.refresh_from_db()
    assert risk.title == "Before"


def test_the_api_refuses_a_control_character_with_400(staff_member):
    AgencyFactory(code="OMB")
    PhaseFactory(number=2)
    _, key = token_create(user=staff_member, name="t")
    payload = {
        "code": "R6",
        "title": "Appropriations\x1b[2J lapse",
        "statement": "A lapse halts new starts.",
        "category": "financial",
        "owner": "Budget lead",
        "owner_agency": "OMB",
        "phases": [2],
        "likelihood": 2,
        "impact": 4,
        "target_likelihood": 1,
        "target_impact": 3,
        "mitigation_strategy": "Multi-year funds.",
        "contingency_plan": "Reprogramme.",
        "rationale": "Raised by OMB.",
    }
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").post(
        "/api/v1/risks/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert "control characters" in response.json()["title"][0]
    assert not Risk.objects.filter(code="R6").exists()


def test_the_services_refuse_it_too(staff_member):
    from risks.services import risk_update

    risk = RiskFactory(title="Before")
    with pytest.raises(ValidationError):
        risk_update(
            risk=risk, owner="Name\nBcc: x", user=staff_member, expected_version=risk.version
        )
    risk.refresh_from_db()
    assert risk.owner != "Name\nBcc: x"


def test_the_import_refuses_it_and_writes_nothing(tmp_path, board_csv):
    rows = {row["code"]: row for row in board_csv}
    rows["R2"]["title"] = "Diplomatic\x1b[2J backlash"
    ok, output = _import(_write_csv(tmp_path / "bad.csv", board_csv))
    assert not ok
    assert "control characters" in output and "nothing was written" in output
    assert "\x1b" not in Risk.objects.get(code="R2").title
