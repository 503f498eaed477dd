"""The board's pages: thin views over the selectors."""

from __future__ import annotations

from http import HTTPStatus

from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from risks import selectors
from risks.filters import HeatmapFilter, RiskFilter
from risks.models import Risk

view_register = permission_required("risks.view_risk", raise_exception=True)


@require_GET
@view_register
def heatmap(request):
    filterset = HeatmapFilter(
        request.GET,
        queryset=selectors.risks_on_register(include_closed=bool(request.GET.get("status"))),
    )
    grid = None
    if filterset.is_valid():
        data = filterset.form.cleaned_data
        grid = selectors.heatmap_grid(
            risks=filterset.qs, basis=data.get("basis") or "current", as_of=data.get("as_of")
        )
    return render(
        request,
        "risks/heatmap.html",
        {"filterset": filterset, "grid": grid, "query": request.GET.urlencode()},
        status=HTTPStatus.OK if grid else HTTPStatus.BAD_REQUEST,
    )


@require_GET
@view_register
def risk_list(request):
    filterset = RiskFilter(request.GET, queryset=selectors.risk_list())
    risks = filterset.qs if filterset.is_valid() else None
    return render(
        request,
        "risks/risk_list.html",
        {"filterset": filterset, "risks": risks, "scale": selectors.rating_scale()},
        status=HTTPStatus.OK if risks is not None else HTTPStatus.BAD_REQUEST,
    )


@require_GET
@view_register
def risk_detail(request, code: str):
    try:
        risk = selectors.risk_detail(code=code)
    except Risk.DoesNotExist:
        raise Http404(f"No risk {code}") from None
    return render(
        request,
        "risks/risk_detail.html",
        {"risk": risk, "scale": selectors.rating_scale(), "today": timezone.localdate()},
    )
