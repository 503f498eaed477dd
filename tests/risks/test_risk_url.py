"""The risk_url filter writes the same link as {% url 'risks:detail' code %}, reversed once."""

from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from risks.templatetags.register import risk_url


@pytest.mark.parametrize("code", ["R1", "G00001", "T-9", "a_b", "ä", "x y", "50%", "a&b", "~:@"])
def test_the_same_url_as_reverse(code):
    assert risk_url(code) == reverse("risks:detail", args=[code])


def test_a_script_prefix_is_honoured():
    set_script_prefix("/register/")
    try:
        assert risk_url("R1") == reverse("risks:detail", args=["R1"]) == "/register/risks/R1/"
    finally:
        set_script_prefix("/")
