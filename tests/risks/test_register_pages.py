"""The register page shows its risks a page at a time, so a register of thousands stays one
quick page; every page together lists each matching risk once, and the downloads carry all."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from risks import views
from risks.models import Risk

pytestmark = pytest.mark.django_db


@pytest.fixture
def board_client(client, board_member, seed, monkeypatch):
    monkeypatch.setattr(views, "REGISTER_PAGE_SIZE", 2)
    client.force_login(board_member)
    return client


def test_the_pages_together_list_every_risk_once(board_client):
    seen = []
    for number in (1, 2, 3):
        response = board_client.get(reverse("risks:list"), {"page": number})
        assert response.status_code == HTTPStatus.OK
        seen += [risk.code for risk in response.context["risks"]]
    assert sorted(seen) == sorted(Risk.objects.values_list("code", flat=True))
    assert len(seen) == len(set(seen)) == 5
    assert "Showing 5\u20135 of 5 matching, 5 risks" in response.content.decode()


def test_the_next_page_keeps_the_filters_and_the_downloads_take_every_page(board_client):
    html = board_client.get(reverse("risks:list"), {"status": "open"}).content.decode()
    assert 'href="?status=open&amp;page=2"' in html
    assert 'href="/risks/export.csv?status=open"' in html  # no page: the file holds all


@pytest.mark.parametrize("number", ["4", "0", "abc", "1e9"])
def test_a_page_that_does_not_exist_is_a_400_saying_so(board_client, number):
    response = board_client.get(reverse("risks:list"), {"page": number})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert f"No page {number}" in response.content.decode()


def test_the_page_costs_the_same_queries_whatever_the_page(board_client):
    board_client.get(reverse("risks:list"))  # the session and the scale, once
    counts = []
    for number in (1, 3):
        with CaptureQueriesContext(connection) as queries:
            board_client.get(reverse("risks:list"), {"page": number})
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 20
