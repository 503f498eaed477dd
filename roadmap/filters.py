from __future__ import annotations

import django_filters as filters

from roadmap.models import Agency, KeyAction, Phase


class KeyActionFilter(filters.FilterSet):
    phase = filters.ModelChoiceFilter(
        queryset=Phase.objects.all(), to_field_name="number", help_text="Phase number."
    )
    agency = filters.ModelChoiceFilter(
        field_name="lead_agencies",
        queryset=Agency.objects.all(),
        to_field_name="code",
        help_text="Lead agency code, e.g. DEA.",
    )
    status = filters.ChoiceFilter(choices=KeyAction.Status.choices)

    class Meta:
        model = KeyAction
        fields = ["phase", "agency", "status"]
