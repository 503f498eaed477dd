"""The page and admin inputs an adversarial pass found answering 500 (issue 12), each now a 4xx
(or the admin's own "invalid filter" page) that writes nothing."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest

from risks.models import BoardReview, MitigationAction
from tests.factories import AgencyFactory, MetricReadingFactory, RiskFactory, TriggerEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_member):
    client.force_login(staff_member)
    return client


NUL_PAGES = [
    ("get", "/risks/%00/", HTTPStatus.NOT_FOUND),
    ("get", "/reviews/%00/", HTTPStatus.NOT_FOUND),
    ("get", "/reviews/%00/export.csv", HTTPStatus.NOT_FOUND),
    ("get", "/reviews/%00/export.xlsx", HTTPStatus.NOT_FOUND),
    ("post", "/reviews/%00/finalise/", HTTPStatus.NOT_FOUND),
    ("post", "/reviews/2027-Q1/accept/R1%00/", HTTPStatus.NOT_FOUND),
    ("get", "/admin/risks/risk/%00/history/", HTTPStatus.NOT_FOUND),
    ("get", "/admin/risks/risk/%00/change/", HTTPStatus.NOT_FOUND),
    ("get", "/admin/risks/risk/?status=%00", HTTPStatus.BAD_REQUEST),
    ("get", "/admin/risks/risk/?category__exact=%00", HTTPStatus.BAD_REQUEST),
    ("get", "/admin/risks/risk/?q=%00", HTTPStatus.BAD_REQUEST),
    ("get", "/heatmap/?agency=%00", HTTPStatus.BAD_REQUEST),
    (
        "get",
        "/admin/autocomplete/?app_label=risks&model_name=risk&field_name=owner_agency&term=%00",
        HTTPStatus.BAD_REQUEST,
    ),
]


@pytest.mark.parametrize(("method", "path", "status"), NUL_PAGES)
def test_a_nul_in_a_page_address_is_refused(client, superuser_or_board, method, path, status):
    client.force_login(superuser_or_board)
    response = getattr(client, method)(path)
    assert response.status_code == status, path
    assert "NUL" in response.content.decode()
    assert not BoardReview.objects.filter(status=BoardReview.Status.FINAL).exists()


@pytest.fixture
def superuser_or_board(board_member):
    board_member.is_staff = True
    board_member.is_superuser = True
    board_member.save()
    return board_member


def test_admin_history_of_an_id_that_is_no_number_is_404(staff_client):
    for object_id in ["abc", "9999-12-31", "%FF%FE", "1e999"]:
        response = staff_client.get(f"/admin/risks/risk/{object_id}/history/")
        assert response.status_code == HTTPStatus.NOT_FOUND, object_id


@pytest.mark.parametrize(
    ("changelist", "field"),
    [
        ("/admin/roadmap/metricreading/", "observed_on"),
        ("/admin/risks/triggerentry/", "recorded_at"),
        ("/admin/risks/assessment/", "assessed_at"),
        ("/admin/axes/accessattempt/", "attempt_time"),
    ],
)
def test_the_date_drill_down_to_an_impossible_year_is_an_invalid_filter(
    client, admin_user, staff_member, changelist, field
):
    MetricReadingFactory(observed_on=datetime.date(2027, 1, 1))
    TriggerEntryFactory(recorded_by=staff_member)
    client.force_login(admin_user)
    assert client.get(changelist).status_code == HTTPStatus.OK
    for query in [
        f"{field}__year=9999",
        f"{field}__year=9999&{field}__month=12",
        f"{field}__year=9999&{field}__month=12&{field}__day=31",
        f"{field}__year=99999999999999999999999",
        f"{field}__year=0",
        f"{field}__year=2027&{field}__month=13",
    ]:
        response = client.get(f"{changelist}?{query}")
        assert response.status_code == HTTPStatus.FOUND, query
        assert response.url.endswith("?e=1"), query
    # A year in range still drills down.
    assert client.get(f"{changelist}?{field}__year=2027").status_code == HTTPStatus.OK


def test_admin_refuses_a_year_out_of_range(staff_client):
    response = staff_client.post(
        "/admin/risks/mitigationaction/add/",
        {
            "risk": RiskFactory(code="R2").pk,
            "title": "Do it",
            "owner_agency": AgencyFactory(code="DEA").pk,
            "due_date": "9999-12-31",
            "status": "planned",
            "percent_complete": 0,
        },
    )
    assert response.status_code == HTTPStatus.OK  # the form again, with the error
    assert "Give a date between 1900-01-01 and 2200-12-31." in response.content.decode()
    assert not MitigationAction.objects.exists()


def test_admin_refuses_done_below_100_percent_with_the_rule(staff_client):
    response = staff_client.post(
        "/admin/risks/mitigationaction/add/",
        {
            "risk": RiskFactory(code="R2").pk,
            "title": "Do it",
            "owner_agency": AgencyFactory(code="DEA").pk,
            "due_date": "2030-01-01",
            "status": "done",
            "percent_complete": 50,
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "A mitigation marked done must be 100% complete." in response.content.decode()
    assert not MitigationAction.objects.exists()
