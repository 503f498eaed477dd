"""A standing crawl (issue 12): every page and admin URL, as each role, with a fixed corpus of
hostile values in every path parameter and query string. No answer may be a 5xx, and the
crawl writes nothing.

The routes are read from the URL configuration and the admin's registry, so a new page, admin
or admin view is crawled without touching this file. Marked slow; `make test` runs it.
Not here: the WebAuthn key ceremonies under /accounts/mfa/key/ (POST-only JSON; their hostile
bodies are in tests/test_webauthn.py)."""

from __future__ import annotations

import datetime
import re
from collections import Counter

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.test import Client, RequestFactory

from risks import urls as risk_urls
from risks.filters import HeatmapFilter, RiskFilter
from risks.models import Assessment, BoardReview, MitigationAction, Risk, TriggerEntry
from roadmap.models import Metric, MetricReading
from roadmap.services import metric_reading_record
from tests.factories import TriggerEntryFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Already percent-encoded: sent as typed into the address bar. The full corpus goes into every
# path parameter and every filter as the superuser, who reaches every view; the other roles
# get every URL once with a real record and the short corpus in every path parameter.
HOSTILE = [
    "%27%22%3E%3Cscript%3E--" + "A" * 1000,  # SQL and HTML ('"><script>--), overlong
    "%FF%FE",  # not UTF-8
    "9999-12-31",  # an extreme date
    "99999999999999999999999",  # an extreme number
]
HOSTILE_SHORT = ["%C0%AF", "1e999"]
# The rest, once per kind of page (the NUL check runs before any view, for every URL).
ONCE = ["%00", "R1%00", "0000-00-00", "2027-02-30", "-1", "NaN", "%E2%80%AE", "..%2F..%2Fetc"]
GENERIC_ADMIN = ["q", "o", "p"]
# The pages that read filters; the exports share /risks/'s filter (each is visited with ONCE).
DEEP_PAGES = {"/heatmap/", "/risks/", "/reviews/"}
RARE_ADMIN = ["all", "_to_field", "_popup", "e"]

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def _routes(patterns) -> list[str]:
    return [str(p.pattern) for p in patterns]


def _fill(route: str, value: str) -> str:
    return PARAMETER.sub(value, route)


def _page_routes() -> list[str]:
    return ["/" + route for route in _routes(risk_urls.urlpatterns)]


def _page_query_names() -> list[str]:
    names = {*RiskFilter.base_filters, *HeatmapFilter.base_filters}
    return sorted(names | {"as_of", "page", "sort", "o", "q", "format"})


def _admin_routes() -> list[tuple[str, type, str]]:
    """(prefix, model, route) for every URL of every registered model admin."""
    found = []
    for model, model_admin in admin.site._registry.items():
        prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        found.extend((prefix, model, route) for route in _routes(model_admin.get_urls()))
    return found


def _admin_query_names(superuser) -> dict[type, list[str]]:
    """Each changelist's filter parameters (list_filter, date hierarchy)."""
    names = {}
    for model, model_admin in admin.site._registry.items():
        request = RequestFactory().get("/")
        request.user = superuser
        changelist: ChangeList = model_admin.get_changelist_instance(request)
        params = set()
        for spec in changelist.filter_specs:
            params.update(spec.expected_parameters())
        if model_admin.date_hierarchy:
            field = model_admin.date_hierarchy
            params.update(f"{field}__{part}" for part in ("year", "month", "day"))
        names[model] = sorted(params)
    return names


def _autocomplete_queries() -> list[str]:
    queries = []
    for model, model_admin in admin.site._registry.items():
        for field in model_admin.autocomplete_fields:
            queries.append(
                f"app_label={model._meta.app_label}&model_name={model._meta.model_name}"
                f"&field_name={field}"
            )
    return queries


def _records() -> dict[str, int]:
    models = [Risk, Assessment, MitigationAction, TriggerEntry, BoardReview, MetricReading]
    return {m.__name__: m.objects.count() for m in models}


class Crawler:
    def __init__(self, client: Client):
        self.client = client
        self.statuses: Counter = Counter()
        self.failures: list[str] = []

    def visit(self, url: str, method: str = "get") -> None:
        response = getattr(self.client, method)(url)
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(f"{method.upper()} {url[:200]} -> {response.status_code}")


def _crawl(crawler: Crawler, *, hostile: list[str], superuser, real: dict, deep: bool) -> None:
    """`deep`: hostile values in every query parameter too, not only in path parameters."""
    # Pages: real records, then hostile values in every path parameter and query string.
    for route in _page_routes():
        method = "post" if route.endswith(("finalise/", "/accept/<str:code>/")) else "get"
        real_url = route.replace("<str:code>", real["code"]).replace("<str:quarter>", real["q"])
        if method == "get":
            crawler.visit(real_url)
        for value in hostile:
            if PARAMETER.search(route):
                crawler.visit(_fill(route, value), method)
            elif method == "get" and deep and route in DEEP_PAGES:
                for name in _page_query_names():
                    crawler.visit(f"{route}?{name}={value}")
    for value in ONCE:
        crawler.visit(f"/risks/{value}/")
        crawler.visit(f"/reviews/{value}/export.csv")
        crawler.visit(f"/heatmap/?as_of={value}&phase={value}")
        crawler.visit(f"/risks/export.csv?as_of={value}&owner={value}&score_min={value}")
        crawler.visit(f"/?as_of={value}")
    # Admin: every model admin's URLs with one real object, then hostile ids and filters.
    crawler.visit("/admin/")
    query_names = _admin_query_names(superuser)
    for prefix, model, route in _admin_routes():
        if route.endswith("<path:object_id>/"):
            continue  # only redirects to the change page, which is crawled
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None or not PARAMETER.search(route):
            crawler.visit(prefix + _fill(route, str(first)))
        for value in hostile:
            if PARAMETER.search(route):
                crawler.visit(prefix + _fill(route, value))
            elif route == "" and deep:
                for name in [*query_names[model], *GENERIC_ADMIN]:
                    crawler.visit(f"{prefix}?{name}={value}")
        if route == "" and deep:
            for name in RARE_ADMIN:
                crawler.visit(f"{prefix}?{name}={hostile[0]}")
            for value in ONCE[:3]:
                crawler.visit(f"{prefix}?q={value}")
    for query in _autocomplete_queries():
        crawler.visit(f"/admin/autocomplete/?{query}&term=")
        for value in hostile:
            crawler.visit(f"/admin/autocomplete/?{query}&term={value}")
            if deep:
                crawler.visit(f"/admin/autocomplete/?{query}&term=a&page={value}")
        crawler.visit(f"/admin/autocomplete/?{query}&term=%00")
    for value in [*hostile, *ONCE]:
        crawler.visit(f"/admin/autocomplete/?app_label={value}&model_name={value}&field_name=x")
        crawler.visit(f"/admin/r/{value}/{value}/")
        crawler.visit(f"/admin/risks/{value}/")
        crawler.visit(f"/admin/risks/risk/{value}/history/")


@pytest.fixture
def register(seed, staff_member):
    """The seed, plus one of each record the seed lacks, so every change page has an object."""
    metric = Metric.objects.order_by("pk").first()
    metric_reading_record(
        metric=metric,
        observed_on=datetime.date(2027, 1, 1),
        value=5,
        source="Crawl",
        user=staff_member,
    )
    TriggerEntryFactory(risk=Risk.objects.get(code="R2"), recorded_by=staff_member)
    BoardReview.objects.create(
        quarter="2027-Q1",
        meeting_date=datetime.date(2027, 3, 31),
        attendees="Chair",
        created_by=staff_member,
    )


@pytest.fixture(autouse=True)
def short_changelists(monkeypatch):
    """Five rows a changelist page: the crawl is about the filters, not the rendering."""
    for model_admin in admin.site._registry.values():
        monkeypatch.setattr(model_admin, "list_per_page", 5)


@pytest.fixture
def superuser(db):
    return UserFactory(username="ada.admin", is_staff=True, is_superuser=True)


@pytest.mark.parametrize(
    "persona", ["superuser", "staff_member", "auditor", "board_member", "outsider", "anonymous"]
)
def test_crawl_answers_no_5xx_and_writes_nothing(request, register, superuser, persona):
    client = Client(raise_request_exception=False)
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    before = _records()
    real = {"code": "R1", "q": "2027-Q1"}
    crawler = Crawler(client)

    deep = persona == "superuser"
    _crawl(
        crawler,
        hostile=HOSTILE if deep else HOSTILE_SHORT,
        superuser=superuser,
        real=real,
        deep=deep,
    )

    assert not crawler.failures, "\n".join(crawler.failures)
    assert _records() == before
    if persona in ("superuser", "staff_member", "auditor"):
        assert crawler.statuses[200] > 50  # the crawl reached real pages, not only refusals
