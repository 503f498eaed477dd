"""WebAuthn key ceremonies, under /accounts/mfa/key/ (reached before the second factor, like
the rest of /accounts/mfa/). The namespace is django-otp-webauthn's, whose template tags name
these URLs."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from accounts import views

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        views.KeyRegistrationBegin.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        views.KeyRegistrationComplete.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        views.KeyAuthenticationBegin.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        views.KeyAuthenticationComplete.as_view(),
        name="credential-authentication-complete",
    ),
    # The messages its script shows (gettext), as a script from this site.
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
