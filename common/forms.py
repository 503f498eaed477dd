"""Forms both apps' admins use."""

from __future__ import annotations

from django import forms

MISSING_VERSION = (
    "This form did not say which version of the record it was loaded from, so the change "
    "could overwrite someone else's. Reload the page and make your change again."
)


class VersionedForm(forms.ModelForm):
    """Carries the version the editor loaded, so the service refuses the save if someone else
    changed the record meanwhile (see common.versions). A change posted without it is refused,
    as the API refuses one without If-Match (428): it cannot be checked."""

    expected_version = forms.IntegerField(
        required=False,
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={"required": MISSING_VERSION, "invalid": MISSING_VERSION},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version
            self.fields["expected_version"].required = True

    @property
    def version_loaded(self) -> int | None:
        return self.cleaned_data.get("expected_version")

    def model_data(self) -> dict:
        """The cleaned values of the model's own fields (many-to-many included), without the
        primary key an inline row carries."""
        opts = self._meta.model._meta
        names = {field.name for field in opts.get_fields()} - {opts.pk.name}
        return {name: value for name, value in self.cleaned_data.items() if name in names}
