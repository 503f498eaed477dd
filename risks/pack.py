"""The quarterly board pack as PDF (`GET /reviews/<quarter>/pack.pdf`), rendered by WeasyPrint
from templates/risks/review_pack.html, which includes the pages' own heatmap partials, with
static/pack.css. Tagged PDF (PDF/UA-1) so screen readers can read it."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from risks import selectors
from risks.models import BoardReview

# WeasyPrint logs each of its seven rendering steps at INFO: noise in the app's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

STYLESHEET = "pack.css"
PDF_VARIANT = "pdf/ua-1"


@dataclass
class ContingencyLog:
    risk: object  # a dashboard row: a Risk annotated with its latest entry
    entries: list


def review_pack_context(*, review: BoardReview, today: datetime.date | None = None) -> dict:
    """The pack's contents. The grids are those of the review page (a final review's snapshot,
    or for a draft the register as it stands), with movement since the review before; the
    lists are the dashboard's, as on the day the pack is made."""
    today = today or timezone.localdate()
    scale = selectors.rating_scale()
    if review.is_final:
        grids = {
            basis: selectors.review_grid(review=review, basis=basis, scale=scale)
            for basis in selectors.BASES
        }
        previous = selectors.review_latest_final(before=review.finalised_at)
    else:
        risks = selectors.risks_on_register()
        grids = {
            basis: selectors.heatmap_grid(risks=risks, basis=basis, scale=scale)
            for basis in selectors.BASES
        }
        previous = selectors.review_latest_final()
    movements = {
        basis: selectors.heatmap_movement(grid=grid, review=previous)
        for basis, grid in grids.items()
    }
    board = selectors.dashboard(today=today)
    logs = selectors.trigger_entries_of(risk_ids=[risk.pk for risk in board.contingencies])
    return {
        "review": review,
        "scale": scale,
        "today": today,
        "current": movements["current"],
        "target": movements["target"],
        "previous": previous,
        "board": board,
        "contingencies": [
            ContingencyLog(risk=risk, entries=logs.get(risk.pk, [])) for risk in board.contingencies
        ],
        "acceptances": selectors.review_acceptances(review=review),
        "register": selectors.review_register(review=review),
        "attendees": [line.strip() for line in review.attendees.splitlines() if line.strip()],
    }


def review_pack_html(*, review: BoardReview, today: datetime.date | None = None) -> str:
    return render_to_string(
        "risks/review_pack.html", review_pack_context(review=review, today=today)
    )


def review_pack_pdf(*, review: BoardReview, base_url: str) -> bytes:
    """`base_url` makes the pack's links absolute; nothing is fetched from it (or anywhere
    else but data: URLs), so rendering never calls back into the server."""
    from weasyprint import CSS, HTML  # heavy: loaded only when a pack is made
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    stylesheet = CSS(filename=finders.find(STYLESHEET), url_fetcher=fetcher)
    document = HTML(string=review_pack_html(review=review), base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet], pdf_variant=PDF_VARIANT, pdf_tags=True)
