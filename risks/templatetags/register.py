"""Template helpers for ratings (colour always comes with its text label) and risk links."""

from __future__ import annotations

import functools
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, reverse
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


MARKER = "RISKCODE"
SAFE = "!$&'()*+,;=~:@"  # what reverse() leaves unquoted in a path segment


@functools.lru_cache(maxsize=8)
def _detail_url_parts(script_prefix: str) -> tuple[str, str]:
    head, tail = reverse("risks:detail", args=[MARKER]).split(MARKER)
    return head, tail


@register.filter
def risk_url(code) -> str:
    """`{% url 'risks:detail' code %}`, reversed once per script prefix rather than once per
    link: a heatmap shows up to 300 links and each reverse() cost ~0.1 ms. Quoted as reverse()
    quotes (RFC 3986 sub-delimiters kept); tests/risks/test_risk_url.py compares the two."""
    head, tail = _detail_url_parts(get_script_prefix())
    return f"{head}{quote(str(code), safe=SAFE)}{tail}"
