"""A setting that does not parse stops start-up with a message naming the variable, instead of
quietly reading as false or zero (issue 12: `DJANGO_HTTPS=ture` turned HTTPS off)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

# `import django; django.setup()` reads config.settings the way every start-up does.
START = "import django; django.setup(); from django.conf import settings; print(settings.HTTPS)"


def _start(**environ) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **environ}
    return subprocess.run(
        [sys.executable, "-c", START],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_HTTPS", "ture", "DJANGO_HTTPS='ture' is not a boolean"),
        ("DJANGO_HTTPS", "enabled", "DJANGO_HTTPS='enabled' is not a boolean"),
        ("DJANGO_DEBUG", "enabled", "DJANGO_DEBUG='enabled' is not a boolean"),
        ("DJANGO_EMAIL_USE_TLS", "2", "DJANGO_EMAIL_USE_TLS='2' is not a boolean"),
        ("DJANGO_EMAIL_PORT", "25x", "DJANGO_EMAIL_PORT='25x' is not a whole number"),
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT='five' is not a whole number"),
        ("DJANGO_CONN_MAX_AGE", "1.5", "DJANGO_CONN_MAX_AGE='1.5' is not a whole number"),
        ("DATABASE_URL", "nonsense", "DATABASE_URL is not a URL this site understands"),
        ("DATABASE_URL", "postgress://u:secret@db/x", "scheme 'postgress'"),
        ("DATABASE_URL", "postgres://u@db:port/x", "DATABASE_URL could not be read"),
        ("CACHE_URL", "nonsense", "CACHE_URL is not a URL this site understands"),
        ("CACHE_URL", "redi://u:secret@cache:6379/1", "scheme 'redi'"),
        ("CACHE_URL", "memcache://cache:11211", "scheme 'memcache'"),
        ("CACHE_URL", "redis://u:secret@cache:port/1", "its port is not a number"),
        ("CACHE_URL", "redis://u:secret@cache:6379/one", "is not a number"),
        ("DATABASE_POOLER", "pgpool", "DATABASE_POOLER='pgpool' is not known"),
        ("AXES_COOLOFF_MINUTES", "15m", "AXES_COOLOFF_MINUTES='15m' is not a whole number"),
        ("AXES_COOLOFF_MINUTES", "0", "AXES_COOLOFF_MINUTES=0 must be a whole number above 0"),
        ("AXES_COOLOFF_MAX_HOURS", "-1", "AXES_COOLOFF_MAX_HOURS=-1 must be a whole number"),
        ("AXES_COOLOFF_WINDOW_DAYS", "a week", "AXES_COOLOFF_WINDOW_DAYS='a week' is not"),
        ("DJANGO_WEBAUTHN_RP_ID", "127.0.0.1", "DJANGO_WEBAUTHN_RP_ID='127.0.0.1' is not a"),
        ("DJANGO_WEBAUTHN_RP_ID", "evil.example", "is neither a host of DJANGO_ALLOWED_HOSTS"),
        ("DJANGO_ALLOWED_HOSTS", "10.0.0.5", "holds no domain name for WebAuthn keys"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    result = _start(**{variable: value})
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr, result.stderr[-500:]
    assert "secret" not in result.stderr  # a URL's password is never repeated


@pytest.mark.parametrize(
    ("value", "https"), [("1", "True"), ("On", "True"), ("no", "False"), ("", "False")]
)
def test_the_boolean_spellings_read_as_documented(value, https):
    result = _start(DJANGO_HTTPS=value, DJANGO_SECRET_KEY="k" * 60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == https


PRINT_MAIL = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL)"
)
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def _mail(**environ) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "k" * 60,
        **environ,
    }
    return subprocess.run(
        [sys.executable, "-c", PRINT_MAIL],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_smtp_uses_tls_unless_told_otherwise():
    result = _mail(DJANGO_EMAIL_BACKEND=SMTP, DJANGO_EMAIL_HOST="smtp.example.gov")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


def test_plaintext_smtp_to_another_host_stops_start_up():
    result = _mail(
        DJANGO_EMAIL_BACKEND=SMTP, DJANGO_EMAIL_HOST="smtp.example.gov", DJANGO_EMAIL_USE_TLS="0"
    )
    assert result.returncode != 0
    assert "DJANGO_EMAIL_USE_TLS is off for the mail host 'smtp.example.gov'" in result.stderr


def test_plaintext_smtp_to_this_machine_is_allowed():
    result = _mail(
        DJANGO_EMAIL_BACKEND=SMTP, DJANGO_EMAIL_HOST="localhost", DJANGO_EMAIL_USE_TLS="0"
    )
    assert result.returncode == 0, result.stderr


def test_implicit_tls_turns_starttls_off():
    result = _mail(DJANGO_EMAIL_BACKEND=SMTP, DJANGO_EMAIL_USE_SSL="1", DJANGO_EMAIL_PORT="465")
    assert result.stdout.split() == ["False", "True"]


def test_https_cookies_carry_the_host_prefix():
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_HTTPS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["__Host-sessionid", "__Host-csrftoken"]


def test_the_webauthn_rp_id_is_the_first_domain_of_the_allowed_hosts_or_a_parent_of_one():
    show = "import django; django.setup(); from django.conf import settings; "
    for environ, expected in [
        ({}, "localhost"),
        ({"DJANGO_ALLOWED_HOSTS": "10.0.0.5,risk.example.gov"}, "risk.example.gov"),
        (
            {"DJANGO_ALLOWED_HOSTS": "risk.example.gov", "DJANGO_WEBAUTHN_RP_ID": "Example.GOV"},
            "example.gov",
        ),
    ]:
        result = subprocess.run(
            [sys.executable, "-c", show + "print(settings.OTP_WEBAUTHN_RP_ID)"],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **environ},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.strip() == expected, result.stderr[-500:]
