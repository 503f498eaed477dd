"""Settings for the Roadmap Risk Register.

One module, read from the environment (django-environ). Without any environment it runs
on an SQLite file in the project folder, so a fresh checkout just works.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import StrictEnv, webauthn_rp_id

BASE_DIR = Path(__file__).resolve().parent.parent

# Strict: a boolean, number or URL that does not parse stops start-up (config/env.py).
env = StrictEnv()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# No usable default: with DJANGO_DEBUG off and no DJANGO_SECRET_KEY the server refuses to start
# (config/wsgi.py, config/asgi.py) and `check --deploy` reports common.E003. The development
# key below only serves `make demo`, the tests and local commands.
INSECURE_DEV_SECRET_KEY = "insecure-dev-key-only-for-demo-and-tests"  # noqa: S105  # nosec B105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_filters",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "common",
    "accounts",
    "roadmap",
    "risks",
]

MIDDLEWARE = [
    # First: a request id (X-Request-ID, honoured when well-formed) for every log line, and
    # one access-log line per request with the user and the real client address.
    "accounts.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A NUL in the path or query string answers 400 before any view or database lookup.
    "common.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Django's sessions, saved for the idle timeout once a minute, not on every request.
    "accounts.middleware.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session shown a second factor (django-otp)?
    "django_otp.middleware.OTPMiddleware",
    # A session older than SESSION_MAX_AGE_SECONDS ends, however active it was.
    "accounts.middleware.AbsoluteSessionLifetimeMiddleware",
    # Every page needs a signed-in user unless its view says otherwise (login, /healthz).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Logs 401, 403, 409, 412 and 428 with the user and the client's address.
    "accounts.middleware.RefusalLogMiddleware",
    # Cache-Control: no-store on every authenticated and API response (the MFA redirects too).
    "accounts.middleware.NoStoreMiddleware",
    # Staff and superusers show a second factor before any page (DJANGO_MFA_REQUIRED).
    "accounts.middleware.MFARequiredMiddleware",
    # Sensitive pages ask for the password again when it was last given too long ago.
    "accounts.middleware.ReauthenticationMiddleware",
    # Exports and bulk API reads are logged: who took what (security log, "read.*").
    "accounts.middleware.ReadAuditMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with permissions kept in the shared cache (accounts/backends.py).
    "accounts.backends.CachedPermissionsBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Keep connections open between requests (a new PostgreSQL connection costs ~7 ms).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction pooling mode (DATABASE_POOLER=pgbouncer; README "Operations")
# each transaction may run on another server connection, so a server-side cursor (what
# QuerySet.iterator() declares: the CSV exports, verify_trigger_log) would be gone before its
# next fetch. Django then reads those results with an ordinary cursor instead. Row locks
# (select_for_update, inside the services' transactions) hold as they are; the code takes no
# session-level advisory lock and sets no session variable.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="").strip()
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured(
        f"DATABASE_POOLER={DATABASE_POOLER!r} is not known: leave it unset, or pgbouncer."
    )
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLER == "pgbouncer"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Several app servers: nothing lives in one process's memory --------------------------
# CACHE_URL selects the cache every instance shares: redis://host:6379/N (django-redis) in
# production; local memory (one process) by default. It holds the API throttle's counters
# and whatever the pages cache. Sign-in lockouts (django-axes' database handler) and
# sessions are in the database, which every instance shares too.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Answers kept until the next write (the heatmap grid, the scale, remembered API tokens;
# common/cache.py) need a cache every process shares: on by default only when CACHE_URL names
# one (Redis). With one process's memory a write through another worker or a command would
# leave them stale, so they are off. STATE_CACHE=1 forces them on (one process only).
STATE_CACHE = env.bool(
    "STATE_CACHE",
    default=not CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")),
)
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Pages show dates one way, "27 Feb 2026" (config/formats/en/formats.py); inputs stay ISO.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Without collectstatic (demo, tests) WhiteNoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = True
# Files a browser asks for at the site's root (/favicon.ico), served by WhiteNoise too.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names need `collectstatic` first, which `make serve` runs.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("DJANGO_STATIC_MANIFEST", default=False)
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
# STARTTLS unless explicitly off (or implicit TLS with DJANGO_EMAIL_USE_SSL). With debug off,
# SMTP without either is refused at start-up unless the mail host is this machine.
EMAIL_USE_SSL = env.bool("DJANGO_EMAIL_USE_SSL", default=False)
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=not EMAIL_USE_SSL)
if EMAIL_USE_SSL and EMAIL_USE_TLS:
    raise ImproperlyConfigured(
        "Set one of DJANGO_EMAIL_USE_TLS and DJANGO_EMAIL_USE_SSL, not both."
    )
if (
    not DEBUG
    and EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    and not (EMAIL_USE_TLS or EMAIL_USE_SSL)
    and EMAIL_HOST not in ("localhost", "127.0.0.1", "::1")
):
    raise ImproperlyConfigured(
        f"DJANGO_EMAIL_USE_TLS is off for the mail host {EMAIL_HOST!r}: mail (password-change "
        "notices, board alerts) would cross the network unencrypted. Turn TLS on, or relay "
        "through a mail server on localhost."
    )
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="risk-register@localhost")
# send_reminders: the weekly summary goes to the board secretary (empty: every Board member
# with an address); links in reminders start with SITE_URL.
BOARD_SECRETARY_EMAIL = env.list("BOARD_SECRETARY_EMAIL", default=[])
SITE_URL = env.str("DJANGO_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Sign-in and sessions --------------------------------------------------------------
# How many reverse proxies stand in front of the app, each appending to X-Forwarded-For
# (one TLS proxy: 1). 0 believes no header: the connecting address is the client.
# accounts.client.client_address applies it for the lockout, the security log and the API.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
# django-axes, with accounts.lockout.LockoutHandler giving each parameter set its own cap:
# five failures lock one client (username and address) out of that account; twenty failures
# from any addresses lock the account itself, so a spread guess is slowed. The lockout lasts
# AXES_COOLOFF_BASE and doubles for every further twenty failures of the account within
# AXES_COOLOFF_WINDOW, up to AXES_COOLOFF_MAX (accounts.lockout.cool_off_for).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=20)
_cooloff_minutes = env.int("AXES_COOLOFF_MINUTES", default=15)
_cooloff_max_hours = env.int("AXES_COOLOFF_MAX_HOURS", default=24)
_cooloff_window_days = env.int("AXES_COOLOFF_WINDOW_DAYS", default=7)
for _name, _value in (
    ("AXES_FAILURE_LIMIT", AXES_FAILURE_LIMIT),
    ("AXES_USERNAME_FAILURE_LIMIT", AXES_USERNAME_FAILURE_LIMIT),
    ("AXES_COOLOFF_MINUTES", _cooloff_minutes),
    ("AXES_COOLOFF_MAX_HOURS", _cooloff_max_hours),
    ("AXES_COOLOFF_WINDOW_DAYS", _cooloff_window_days),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be a whole number above 0.")
AXES_COOLOFF_BASE = datetime.timedelta(minutes=_cooloff_minutes)
AXES_COOLOFF_MAX = datetime.timedelta(hours=_cooloff_max_hours)
AXES_COOLOFF_WINDOW = datetime.timedelta(days=_cooloff_window_days)
if AXES_COOLOFF_MAX < AXES_COOLOFF_BASE:
    raise ImproperlyConfigured("AXES_COOLOFF_MAX_HOURS is shorter than AXES_COOLOFF_MINUTES.")
AXES_COOLOFF_TIME = "accounts.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.client.client_address"
# A success clears that client's count only; every failure stays on record for an audit.
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Logged in full: a failed sign-in must say which account and which address.
AXES_SENSITIVE_PARAMETERS = []
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_SECONDS", default=30 * 60)
# However active, a session ends this long after its sign-in (accounts.middleware).
SESSION_MAX_AGE_SECONDS = env.int("DJANGO_SESSION_MAX_SECONDS", default=12 * 60 * 60)
# Sensitive pages (REAUTH_PATHS) ask for the password again when it was last given longer ago.
REAUTH_SECONDS = env.int("DJANGO_REAUTH_SECONDS", default=15 * 60)
# (regex on the path, methods that need a recent password); accounts.middleware applies them.
REAUTH_PATHS = [
    (r"^/accounts/tokens/$", ["POST"]),  # creating an API token
    (r"^/reviews/[^/]+/finalise/$", ["POST"]),  # finalising a board review
    (r"^/admin/risks/risk/\d+/(invoke-contingency|stand-down)/$", ["GET", "POST"]),
    (r"^/admin/auth/", ["GET", "POST"]),  # users and groups
    (r"^/admin/accounts/", ["GET", "POST"]),  # everyone's API tokens
]
# The age counts from the last request, to the minute: a signed-in session is saved again
# when its last save is SESSION_TOUCH_SECONDS old (accounts.middleware.IdleSessionMiddleware).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# --- HTTPS and headers (production sets DJANGO_HTTPS=1 behind its TLS proxy) -----------
HTTPS = env.bool("DJANGO_HTTPS", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# Under HTTPS the cookies carry the __Host- prefix: the browser keeps them only when set over
# HTTPS for this exact host with Path=/ (no sibling subdomain can plant or overwrite them).
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # larger form bodies answer 400; the API answers 413

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],  # no inline scripts anywhere
        "style-src": ["'self'", "'unsafe-inline'"],  # band colours are data, set inline
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logs: one format, one line per record, on stdout --------------------------------------
# JSON in production; readable text when DJANGO_DEBUG is on (`make demo`), unless
# DJANGO_LOG_FORMAT says otherwise. Django's own loggers ("django", "django.server") lose their
# default handlers and pass everything to the root's one handler, so no line prints twice.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT must be json or text.")
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {
            "format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s "
            "[request_id=%(request_id)s user=%(user)s client=%(client_ip)s]"
        },
    },
    # Every record, whoever logs it (access, security, errors, gunicorn), carries the request
    # id, the user and the real client address of the request being served ("-" outside one).
    "filters": {"request": {"()": "accounts.logs.RequestContextFilter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "INFO"},
        # One line per request from accounts.middleware.RequestContextMiddleware.
        "access": {"level": "INFO"},
        "axes.apps": {"level": "WARNING"},  # its start-up banner is not an event
    },
}

# --- Trigger log signing (README: "For auditors") --------------------------------------
# An Ed25519 private key (PEM) kept outside the database. Unset with DEBUG on: a development
# key is created on first use at .keys/trigger-log-dev.pem. Unset with DEBUG off: the app
# refuses to start (system check common.E001; config/wsgi.py loads the key at start).
TRIGGER_LOG_SIGNING_KEY_FILE = env.str("TRIGGER_LOG_SIGNING_KEY_FILE", default="")
TRIGGER_LOG_DEV_KEY_FILE = BASE_DIR / ".keys" / "trigger-log-dev.pem"
# The first line of every signed checkpoint: names this log, so one deployment's signed heads
# cannot pass as another's.
TRIGGER_LOG_ORIGIN = env.str("TRIGGER_LOG_ORIGIN", default="roadmap-risk-register/trigger-log")

# --- Second factor (README: "Multi-factor sign-in"; accounts/mfa.py) ---------------------
# TOTP (django-otp) with recovery codes, required for staff, superusers and the Staff group
# when on; on by default unless DEBUG is (`make demo`). DJANGO_MFA_ALL_USERS extends it to
# everyone (Board and Auditor too).
MFA_REQUIRED = env.bool("DJANGO_MFA_REQUIRED", default=not DEBUG)
MFA_ALL_USERS = env.bool("DJANGO_MFA_ALL_USERS", default=False)
OTP_TOTP_ISSUER = "Roadmap Risk Register"
# WebAuthn (security keys, passkeys; django-otp-webauthn) as a second factor beside TOTP, never
# instead of the password. The relying party id is the site's domain: DJANGO_WEBAUTHN_RP_ID, or
# the first domain name in DJANGO_ALLOWED_HOSTS (browsers refuse an IP address). A key works
# on that domain and its subdomains only. The expected origin is the request's own scheme and
# host (the host already checked against ALLOWED_HOSTS), accepted only when the host is the
# RP id or under it, and only over https when DJANGO_HTTPS is on (accounts/webauthn.py); so
# the package's fixed origin list stays empty and its check for one is silenced.
WEBAUTHN_RP_ID = webauthn_rp_id(env.str("DJANGO_WEBAUTHN_RP_ID", default=""), ALLOWED_HOSTS)
OTP_WEBAUTHN_RP_ID = WEBAUTHN_RP_ID
OTP_WEBAUTHN_RP_NAME = "Roadmap Risk Register"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_HELPER_CLASS = "accounts.webauthn.WebAuthnHelper"
# Refusals are logged as security events (mfa.failed) instead of a traceback each.
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = ""
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no TOTP secret or QR code in the admin

# --- Backups (README: "Backups") ------------------------------------------------------------
# `make backup` encrypts to these age public keys (comma-separated; any one key decrypts) and
# refuses to run without one. The demo key is used only when asked for (`make backup
# DEMO_KEY=1`): its private key sits on the same disk, so it protects nothing in production.
BACKUP_RECIPIENTS = env.list("BACKUP_RECIPIENT", default=[])
BACKUP_DEMO_KEY_FILE = BASE_DIR / ".keys" / "backup-demo.agekey"

# The change history's reason holds an assessment's whole rationale: a text column, not 100 chars.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# django-filter: an untouched choice reads "All", so no filter hides rows by default.
FILTERS_EMPTY_CHOICE_LABEL = "All"

# Per-operation limits, per user, in the default cache (shared by every app server once
# CACHE_URL names a shared one): the API's throttle scopes and the pages' limiter
# (common/ratelimit.py) read the same rates. Over the limit: 429 and a message saying when.
RATE_LIMITS = {
    "contingency": env.str("CONTINGENCY_RATE", default="30/hour"),
    "export": env.str("EXPORT_RATE", default="120/hour"),
    # Recording metric readings (each may flag risks and notify): API POST only.
    "readings": env.str("READINGS_RATE", default="120/hour"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous call answers 401 with a WWW-Authenticate header.
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.api.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.api.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "common.api.CSVRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        # ?format=csv answers count against the "export" rate too.
        "common.api.ExportRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_RATE", default="2000/hour"),
        **RATE_LIMITS,
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

# API tokens (django-rest-knox, with accounts.ApiToken): stored as SHA-512 digests, shown
# once, expiring after API_TOKEN_TTL_DAYS unless made with another lifetime.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105  # nosec B105 - a model name, not a password
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": datetime.timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# A token that authenticated is remembered (with its user's permissions) in the cache for up
# to this many seconds; revoking it, or any change of users, groups or permissions, forgets
# every remembered token at once (accounts/authentication.py). 0 turns it off.
API_AUTH_CACHE_SECONDS = env.int("API_AUTH_CACHE_SECONDS", default=60)

SPECTACULAR_SETTINGS = {
    "TITLE": "Roadmap Risk Register API",
    "DESCRIPTION": (
        "Read-only for Auditor and Board, read-write for Staff. Authenticate with "
        "`Authorization: Token <key>` or a session. Get a token on /accounts/tokens/ or "
        "from an administrator (`make token USER=<username>`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
