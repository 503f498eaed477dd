"""The board's pages: thin views over the selectors, services and exports."""

from __future__ import annotations

import re
import string
from http import HTTPStatus
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import InvalidPage, Paginator
from django.core.validators import RegexValidator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.ratelimit import rate_limited
from risks import exports, pack, selectors, services
from risks.filters import HeatmapFilter, RiskFilter, active_filters
from risks.models import QUARTER_PATTERN, BoardReview, Risk

view_register = permission_required("risks.view_risk", raise_exception=True)
view_reviews = permission_required(
    ["risks.view_boardreview", "risks.view_reviewsnapshot"], raise_exception=True
)
ADD_REVIEW = "risks.add_boardreview"
CHANGE_REVIEW = "risks.change_boardreview"
ADD_ACCEPTANCE = "risks.add_riskacceptance"


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _form_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the form: field messages by their fields, the rest on top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Forms: input parsing only; the rules are in risks/services.py --------------------------


class ReviewDetailsForm(forms.Form):
    meeting_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    attendees = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="One name and agency per line."
    )
    decisions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}))


class ReviewCreateForm(ReviewDetailsForm):
    quarter = forms.CharField(
        max_length=7,
        help_text="YYYY-Qn, e.g. 2027-Q1.",
        validators=[
            RegexValidator(
                QUARTER_PATTERN, "Give the quarter as YYYY-Qn, e.g. 2027-Q1.", flags=re.IGNORECASE
            )
        ],
    )
    field_order = ["quarter", "meeting_date", "attendees", "decisions"]

    def clean_quarter(self) -> str:
        return self.cleaned_data["quarter"].strip().upper()


class AsOfForm(forms.Form):
    as_of = forms.DateField(required=False, help_text="YYYY-MM-DD")


class AcceptanceForm(forms.Form):
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Why the board accepts this risk."
    )
    expires_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="After this date the risk comes back before the board.",
    )


class FinaliseForm(forms.Form):
    confirm = forms.BooleanField(
        label="The attendees and decisions are complete; freeze the register as it stands now.",
        error_messages={"required": "Tick the box to confirm: a final review cannot be changed."},
    )


# --- Dashboard, heatmap, register, risk page -------------------------------------------------


@require_GET
@view_register
def dashboard(request):
    when = AsOfForm(request.GET)
    if not when.is_valid():
        return HttpResponse(when.errors.as_text(), status=HTTPStatus.BAD_REQUEST)
    as_of = when.cleaned_data["as_of"]
    return render(
        request,
        "risks/dashboard.html",
        {
            "board": selectors.dashboard(as_of=as_of),
            # Risk pages, the heatmap and the register open on the same day.
            "as_of_query": f"?as_of={as_of.isoformat()}" if as_of else "",
        },
    )


@require_GET
@view_register
def heatmap(request):
    filterset = HeatmapFilter(request.GET, queryset=Risk.objects.all())
    grid = None
    if filterset.is_valid():
        data = filterset.form.cleaned_data
        as_of, basis = data.get("as_of"), data.get("basis") or "current"

        def compute() -> dict:
            # The grid's HTML (a URL per code shown) was most of the page: kept rendered.
            movement = selectors.heatmap_page(risks=filterset.qs, basis=basis, as_of=as_of)
            body = {"grid": movement.grid, "movement": movement}
            return {
                "basis": movement.grid.basis,
                "total": movement.grid.total,
                "html": render_to_string("includes/heatmap_body.html", body),
            }

        grid = selectors.register_cached(
            ("heatmap_page_html", selectors.queryset_key(filterset.qs), basis, as_of), compute
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
    """The register, REGISTER_PAGE_SIZE risks a page (`?page=N`): a register of thousands
    stays one quick page; the exports carry every matching risk."""
    filters = request.GET.copy()
    number = filters.pop("page", ["1"])[-1]
    filterset = RiskFilter(filters, queryset=selectors.risk_list())
    context = {
        "filterset": filterset,
        "active_filters": active_filters(filterset),
        "scale": selectors.rating_scale(),
        "query": filters.urlencode(),
        "risks": None,
    }
    if not filterset.is_valid():
        return render(request, "risks/risk_list.html", context, status=HTTPStatus.BAD_REQUEST)
    try:
        page = Paginator(filterset.qs, REGISTER_PAGE_SIZE).page(number)
    except InvalidPage as error:
        messages.error(request, f"No page {number} of these risks ({error}).")
        return render(request, "risks/risk_list.html", context, status=HTTPStatus.BAD_REQUEST)
    unfiltered = not context["active_filters"]
    total = page.paginator.count if unfiltered else filterset.queryset.count()
    context.update(risks=page.object_list, page=page, total=total)
    return render(request, "risks/risk_list.html", context)


REGISTER_PAGE_SIZE = 100


@require_GET
@view_register
def risk_detail(request, code: str):
    when = AsOfForm(request.GET)
    if not when.is_valid():
        return HttpResponse(when.errors.as_text(), status=HTTPStatus.BAD_REQUEST)
    as_of = when.cleaned_data["as_of"]
    try:
        page = selectors.risk_page(code=code, as_of=as_of)
    except Risk.DoesNotExist:
        raise Http404(f"No risk {code}" + (f" on {as_of}" if as_of else "")) from None
    return render(
        request,
        "risks/risk_detail.html",
        {"risk": page.risk, "page": page, "scale": selectors.rating_scale(), "today": page.on},
    )


# --- Quarterly reviews -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@view_reviews
def review_list(request):
    form = None
    if request.user.has_perm(ADD_REVIEW):
        form = ReviewCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        _require(request, ADD_REVIEW)
        if form.is_valid():
            try:
                review = services.review_create(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, f"Review {review.quarter} created as a draft.")
                return redirect("risks:review", quarter=review.quarter)
    return render(
        request,
        "risks/review_list.html",
        {"reviews": selectors.review_list(), "form": form},
        status=HTTPStatus.BAD_REQUEST if form is not None and form.errors else HTTPStatus.OK,
    )


def _review_or_404(quarter: str) -> BoardReview:
    try:
        return selectors.review_get(quarter=quarter)
    except BoardReview.DoesNotExist:
        raise Http404(f"No review for {quarter}") from None


def _review_page(
    request,
    review: BoardReview,
    *,
    edit_form: ReviewDetailsForm | None = None,
    finalise_form: FinaliseForm | None = None,
    accept_forms: dict[str, AcceptanceForm] | None = None,
    status: int = HTTPStatus.OK,
):
    scale = selectors.rating_scale()
    if review.is_final:
        # The grid as the board saw it, marked with moves since the review before it.
        grid = selectors.review_grid(review=review, scale=scale)
        previous = selectors.review_latest_final(before=review.finalised_at)
    else:
        # A draft shows the register as it stands: what finalising would freeze.
        grid = selectors.heatmap_grid(risks=selectors.risks_on_register(), scale=scale)
        previous = selectors.review_latest_final()
    movement = selectors.heatmap_movement(grid=grid, review=previous)
    can_change = not review.is_final and request.user.has_perm(CHANGE_REVIEW)
    can_accept = not review.is_final and request.user.has_perm(ADD_ACCEPTANCE)
    candidates = []
    if not review.is_final:
        accept_forms = accept_forms or {}
        candidates = [
            (risk, accept_forms.get(risk.code) or AcceptanceForm(prefix=f"accept-{risk.code}"))
            for risk in selectors.acceptance_candidates(review=review)
        ]
    if can_change:
        edit_form = edit_form or ReviewDetailsForm(
            initial={
                "meeting_date": review.meeting_date,
                "attendees": review.attendees,
                "decisions": review.decisions,
            }
        )
        finalise_form = finalise_form or FinaliseForm()
    return render(
        request,
        "risks/review_detail.html",
        {
            "review": review,
            "grid": movement.grid,
            "movement": movement,
            "changes": selectors.review_changes(review=review),
            "acceptances": selectors.review_acceptances(review=review),
            "candidates": candidates,
            "can_change": can_change,
            "can_accept": can_accept,
            "edit_form": edit_form if can_change else None,
            "finalise_form": finalise_form if can_change else None,
            "scale": scale,
        },
        status=status,
    )


def _refused(request, review: BoardReview, error: ValidationError):
    """A valid request the review's state does not allow: say why, change nothing."""
    for message in error.messages:
        messages.error(request, message)
    return _review_page(request, review, status=HTTPStatus.BAD_REQUEST)


@require_http_methods(["GET", "POST"])
@view_reviews
def review_detail(request, quarter: str):
    review = _review_or_404(quarter)
    if request.method == "GET":
        return _review_page(request, review)
    _require(request, CHANGE_REVIEW)
    if review.is_final:
        return _refused(
            request,
            review,
            services.StateConflict(f"The {review.quarter} review is final and cannot be edited."),
        )
    form = ReviewDetailsForm(request.POST)
    if form.is_valid():
        try:
            services.review_update(review=review, user=request.user, **form.cleaned_data)
        except services.StateConflict as error:
            return _refused(request, review, error)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Review {review.quarter} saved.")
            return redirect("risks:review", quarter=review.quarter)
    return _review_page(request, review, edit_form=form, status=HTTPStatus.BAD_REQUEST)


@require_POST
@view_reviews
def review_finalise(request, quarter: str):
    review = _review_or_404(quarter)
    _require(request, CHANGE_REVIEW)
    form = FinaliseForm(request.POST)
    if review.is_final or form.is_valid():
        try:
            review = services.review_finalise(review=review, user=request.user)
        except ValidationError as error:
            return _refused(request, review, error)
        count = review.snapshots.count()
        messages.success(
            request,
            f"Review {review.quarter} is final: {count} open risk{'s' if count != 1 else ''} "
            "frozen in its snapshot.",
        )
        return redirect("risks:review", quarter=review.quarter)
    return _review_page(request, review, finalise_form=form, status=HTTPStatus.BAD_REQUEST)


@require_POST
@view_reviews
def review_accept(request, quarter: str, code: str):
    review = _review_or_404(quarter)
    _require(request, ADD_ACCEPTANCE)
    try:
        risk = Risk.objects.get(code=code)
    except Risk.DoesNotExist:
        raise Http404(f"No risk {code}") from None
    if review.is_final:
        return _refused(
            request,
            review,
            services.StateConflict(
                f"The {review.quarter} review is final: record acceptances at the next review."
            ),
        )
    form = AcceptanceForm(request.POST, prefix=f"accept-{code}")
    if form.is_valid():
        try:
            services.risk_accept(review=review, risk=risk, user=request.user, **form.cleaned_data)
        except services.StateConflict as error:
            return _refused(request, review, error)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, f"{risk.code} accepted until {form.cleaned_data['expires_on']}."
            )
            return redirect("risks:review", quarter=review.quarter)
    if not selectors.acceptance_candidates(review=review).filter(pk=risk.pk).exists():
        # The page has no form for this risk (its response is not accept): say it on top.
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return _review_page(request, review, accept_forms={code: form}, status=HTTPStatus.BAD_REQUEST)


# --- Exports for the board pack ----------------------------------------------------------------


@require_GET
@view_register
@rate_limited("export")
def register_export_csv(request):
    filterset = RiskFilter(request.GET, queryset=selectors.risk_list())
    if not filterset.is_valid():
        return HttpResponse(filterset.errors.as_text(), status=HTTPStatus.BAD_REQUEST)
    response = StreamingHttpResponse(
        exports.register_csv(
            risks=filterset.qs,
            scale=selectors.rating_scale(),
            as_of=filterset.form.cleaned_data.get("as_of"),
            request=request,
            filters=active_filters(filterset),
        ),
        content_type="text/csv; charset=utf-8",
    )
    return _named_by_filters(response, filterset, "csv")


@require_GET
@view_register
@rate_limited("export")
def register_export_xlsx(request):
    filterset = RiskFilter(request.GET, queryset=selectors.risk_list())
    if not filterset.is_valid():
        return HttpResponse(filterset.errors.as_text(), status=HTTPStatus.BAD_REQUEST)
    content = exports.register_xlsx(
        risks=filterset.qs,
        scale=selectors.rating_scale(),
        status=filterset.form.cleaned_data.get("status"),
        as_of=filterset.form.cleaned_data.get("as_of"),
        filters=active_filters(filterset),
        request=request,
    )
    response = HttpResponse(content, content_type=exports.XLSX_CONTENT_TYPE)
    response.audit_rows = filterset.qs.count()  # for the read audit (accounts.middleware)
    return _named_by_filters(response, filterset, "xlsx")


def _named_by_filters(response, filterset: RiskFilter, extension: str):
    """The filters that chose the rows, in the file name and in `X-Filters` too (the files
    name them on their first line)."""
    chosen = [
        slugify(f"{name} {filterset.data[name]}")
        for name in filterset.filters
        if filterset.data.get(name) not in (None, "")
    ]
    stem = "--".join([f"risk-register-{timezone.localdate()}", *chosen])[:150]
    response["Content-Disposition"] = _attachment(f"{stem}.{extension}")
    response["X-Filters"] = quote(exports.filters_note(active_filters(filterset)), safe=PRINTABLE)
    return response


def _final_review_or_404(quarter: str) -> BoardReview:
    review = _review_or_404(quarter)
    if not review.is_final:
        raise Http404(f"The {quarter} review is a draft: it has no snapshot to export yet.")
    return review


@require_GET
@view_reviews
@rate_limited("export")
def review_export_csv(request, quarter: str):
    review = _final_review_or_404(quarter)
    response = StreamingHttpResponse(
        exports.snapshot_csv(review=review, scale=selectors.rating_scale()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = _attachment(f"board-review-{review.quarter}.csv")
    return response


@require_GET
@view_reviews
@rate_limited("export")
def review_export_xlsx(request, quarter: str):
    review = _final_review_or_404(quarter)
    content = exports.snapshot_xlsx(review=review, scale=selectors.rating_scale())
    response = HttpResponse(content, content_type=exports.XLSX_CONTENT_TYPE)
    response.audit_rows = review.snapshots.count()  # for the read audit (accounts.middleware)
    response["Content-Disposition"] = _attachment(f"board-review-{review.quarter}.xlsx")
    return response


# X-Filters is ASCII: anything else (an agency's accented name) is percent-encoded UTF-8.
PRINTABLE = "".join(c for c in string.printable if c not in "%\t\n\r\x0b\x0c")


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


@require_GET
@view_reviews
@rate_limited("export")
def review_pack_pdf(request, quarter: str):
    """The board pack as PDF: a draft's is watermarked DRAFT."""
    review = _review_or_404(quarter)
    content = pack.review_pack_pdf(review=review, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(content, content_type="application/pdf")
    draft = "" if review.is_final else "-DRAFT"
    response["Content-Disposition"] = f'inline; filename="board-pack-{review.quarter}{draft}.pdf"'
    return response
