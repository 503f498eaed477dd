"""Admin forms for the register. They validate input; the writes are in risks/services.py."""

from __future__ import annotations

from django import forms

from common.forms import VersionedForm
from risks import rules
from risks.models import Axis, IndicatorBreach, MitigationAction, Risk, TriggerEntry
from risks.selectors import Scale, rating_scale

# A change to any of these is a new assessment, recorded by risks.services.risk_assess.
RATING_FIELDS = ("likelihood", "impact", "confidence")
LEVEL_FIELDS = {
    "likelihood": Axis.LIKELIHOOD,
    "impact": Axis.IMPACT,
    "inherent_likelihood": Axis.LIKELIHOOD,
    "inherent_impact": Axis.IMPACT,
    "target_likelihood": Axis.LIKELIHOOD,
    "target_impact": Axis.IMPACT,
}
RATIONALE_REQUIRED = "Give the rationale for the new rating."


class RiskAdminForm(VersionedForm):
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Required when likelihood, impact or confidence change (and for a new risk). "
            "Given without a change, it records a review that confirms the current rating."
        ),
    )

    class Meta:
        model = Risk
        fields = (
            "code",
            "title",
            "statement",
            "category",
            "owner",
            "owner_email",
            "owner_agency",
            "supporting_agencies",
            "phases",
            "key_actions",
            "likelihood",
            "impact",
            "confidence",
            "inherent_likelihood",
            "inherent_impact",
            "target_likelihood",
            "target_impact",
            "response",
            "mitigation_strategy",
            "contingency_plan",
            "trigger_conditions",
            "status",
            "review_frequency_days",
        )

    def __init__(self, *args, scale: Scale | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        scale = scale or rating_scale()
        for name, axis in LEVEL_FIELDS.items():
            if name in self.fields:
                labels = scale.likelihood_labels if axis == Axis.LIKELIHOOD else scale.impact_labels
                choices = [(level, f"{level} - {label}") for level, label in sorted(labels.items())]
                self.fields[name].widget = forms.Select(choices=[("", "---------"), *choices])
        if not set(RATING_FIELDS) & set(self.fields):
            del self.fields["rationale"]  # the rating is read-only here (a closed risk)
        if "status" in self.fields:
            current = self.instance.status if self.instance.pk else None
            self.fields["status"].choices = [
                (value, label)
                for value, label in self.fields["status"].choices
                if rules.status_edit_allowed(current or value, value)
            ]

    @property
    def rating_changed(self) -> bool:
        return any(name in self.changed_data for name in RATING_FIELDS)

    @property
    def needs_assessment(self) -> bool:
        """On an existing risk: the rating changed, or a rationale confirms it as it stands."""
        return self.rating_changed or bool(self.cleaned_data.get("rationale", "").strip())

    def clean(self) -> dict:
        cleaned = super().clean()
        adding = self.instance._state.adding
        if (adding or self.rating_changed) and not cleaned.get("rationale", "").strip():
            self.add_error("rationale", RATIONALE_REQUIRED)
        return cleaned

    def descriptive_data(self) -> dict:
        """The cleaned model fields other than the rating, for risk_create / risk_update."""
        return {
            name: value for name, value in self.model_data().items() if name not in RATING_FIELDS
        }


class MitigationAdminForm(VersionedForm):
    class Meta:
        model = MitigationAction
        fields = (
            "risk",
            "title",
            "description",
            "owner_agency",
            "key_action",
            "due_date",
            "status",
            "percent_complete",
        )


class TriggerEntryAdminForm(forms.ModelForm):
    """A new trigger log entry; the kind picks the service that chains and hashes it."""

    class Meta:
        model = TriggerEntry
        fields = ("risk", "kind", "reason", "evidence", "actions_taken", "authorised_by")


class BreachDismissForm(forms.ModelForm):
    class Meta:
        model = IndicatorBreach
        fields = ("resolution_reason",)
        labels = {"resolution_reason": "Reason to dismiss"}
        help_texts = {
            "resolution_reason": (
                "Fill in to dismiss the breach without invoking the contingency. To invoke it, "
                "record a trigger log entry for the risk instead."
            )
        }


def _text(label: str, *, required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )


class ContingencyEntryForm(forms.Form):
    """Invoking, updating or standing down a contingency: the text of its trigger log entry.
    The entry is append-only and hashed into the chain, so it is checked before it is written."""

    reason = _text(
        "Reason",
        required=True,
        help_text="Why now: the trigger condition met, the progress made, or why it is over.",
    )
    evidence = _text("Evidence", help_text="Readings, reports or sources that support it.")
    actions_taken = _text("Actions taken")
    authorised_by = forms.CharField(
        label="Authorised by",
        required=False,
        max_length=TriggerEntry._meta.get_field("authorised_by").max_length,
        help_text="The official who authorised it, as they sign.",
    )


class RiskCloseForm(forms.Form):
    closure_reason = _text(
        "Closure reason",
        required=True,
        help_text="Why the risk leaves the register. It is kept with the risk, read-only.",
    )
