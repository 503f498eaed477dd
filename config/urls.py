from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import LogoutView
from config.views import healthz, logout_everywhere

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/logout-everywhere/", logout_everywhere, name="logout-everywhere"),
    path("accounts/mfa/key/", include("accounts.webauthn_urls", namespace="otp_webauthn")),
    path("accounts/", include("accounts.urls", namespace="accounts")),
    path("healthz", healthz, name="healthz"),
    path("", include("risks.urls")),
    path("api/v1/", include("config.api_router", namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page for people: an anonymous visitor is sent to sign in and back, not given a 401.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
]

# JSON under /api/, HTML elsewhere (config/errors.py).
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
