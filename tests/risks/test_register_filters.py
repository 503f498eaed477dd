"""The register's filter form never hides a risk the user did not ask to hide."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from risks.models import Risk

pytestmark = pytest.mark.django_db


@pytest.fixture
def board_client(client, board_member, seed):
    client.force_login(board_member)
    return client


def _codes(response) -> list[str]:
    return sorted(r.code for r in response.context["risks"])


def test_untouched_form_submits_every_risk(board_client):
    # A browser submits every field of the form, each at its default: "All".
    form = board_client.get(reverse("risks:list")).context["filterset"].form
    blank = dict.fromkeys(form.fields, "")
    response = board_client.get(reverse("risks:list"), blank)
    assert response.status_code == HTTPStatus.OK
    assert _codes(response) == sorted(Risk.objects.values_list("code", flat=True))


def test_every_choice_defaults_to_all(board_client):
    html = board_client.get(reverse("risks:list")).content.decode()
    assert "---------" not in html
    assert html.count('<option value="" selected>All</option>') >= 5


def test_one_category_lists_every_risk_of_that_category(board_client):
    for category in Risk.Category.values:
        expected = sorted(Risk.objects.filter(category=category).values_list("code", flat=True))
        response = board_client.get(reverse("risks:list"), {"category": category})
        assert _codes(response) == expected


def test_active_filters_are_named_with_a_count(board_client):
    risk = Risk.objects.get(code="R1")
    response = board_client.get(reverse("risks:list"), {"category": risk.category})
    shown = Risk.objects.filter(category=risk.category).count()
    label = Risk.Category(risk.category).label
    assert f"Showing {shown} of 5 risks: category {label}" in response.content.decode()


def test_agencies_are_shown_by_name(board_client):
    html = board_client.get(reverse("risks:list")).content.decode()
    assert "Office of National Drug Control Policy (ONDCP)" in html
