"""Template helpers for ratings: colour always comes with its text label."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from risks.selectors import Scale

register = template.Library()


@register.simple_tag
def rating_badge(scale: Scale, score: int | None):
    band = scale.band_for(score)
    if band is None:
        return format_html('<span class="usa-tag rating-tag badge-none">{}</span>', "Not rated")
    return format_html(
        '<span class="usa-tag rating-tag" style="background:{};color:{}">{} ({})</span>',
        band.colour,
        band.text_colour,
        band.name,
        score,
    )


@register.simple_tag
def level_label(scale: Scale, axis: str, level: int | None) -> str:
    return f"{scale.label(axis, level)} ({level})" if level else "Not rated"
