from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("mfa/", views.mfa_overview, name="mfa"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa-enrol"),
    path("mfa/verify/", views.mfa_verify, name="mfa-verify"),
    path("mfa/keys/<int:pk>/remove/", views.mfa_key_remove, name="mfa-key-remove"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/<int:pk>/end/", views.session_end, name="session-end"),
    path("reauth/", views.reauthenticate, name="reauth"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
