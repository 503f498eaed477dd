from __future__ import annotations

from django import forms
from django.conf import settings


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What the token is for, e.g. 'GAO quarterly pull'."
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=365,
        label="Valid for (days)",
        required=False,
        help_text="Leave empty for the default.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].widget.attrs["placeholder"] = str(settings.API_TOKEN_TTL_DAYS)


class MFACodeForm(forms.Form):
    code = forms.CharField(
        max_length=40,
        label="Code",
        help_text="The six digits your authenticator app shows, or one recovery code.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class ReauthenticationForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
        help_text="Your password, again: this page changes who can do what.",
    )
