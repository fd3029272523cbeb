"""QI Portal settings: one module, configured only by the environment.

Nothing set → the embedded default: a SQLite file in the project folder, Celery tasks run
eagerly in-process, DEBUG on. Set DATABASE_URL / REDIS_URL to use PostgreSQL and a real
Celery worker. With DEBUG off, SECRET_KEY and ALLOWED_HOSTS must be given.
"""

from datetime import timedelta
from pathlib import Path

import environ
import plotly
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Strict parsing: "DEBUG=maybe" is an error, not False.
_debug_raw = env.str("DEBUG", default="true").strip().lower()
if _debug_raw not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
    raise ImproperlyConfigured(f"DEBUG must be true or false, not {_debug_raw!r}")
DEBUG = _debug_raw in {"1", "true", "yes", "on"}

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-only-key-do-not-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set (at least 50 random characters) when DEBUG is off."
        )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "csp",
    # Our apps, bottom layer first (docs/adr/0002-one-way-layers.md).
    "core",
    "organisations",
    "projects",
    "measures",
    "pdsa",
    "collaboratives",
    "reports",
    "qi_portal",  # the roof: the seed_demo command
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.MethodNotAllowedPage",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must be last: it reads the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qi_portal.urls"
WSGI_APPLICATION = "qi_portal.wsgi.application"
ASGI_APPLICATION = "qi_portal.asgi.application"

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
                "organisations.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite file by default; DATABASE_URL=postgres://… for PostgreSQL with Django's
# built-in connection pool (psycopg 3).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN", default=1),
        "max_size": env.int("DB_POOL_MAX", default=10),
        "timeout": 10,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection reuse
    # The planner's price of reading a page out of order. PostgreSQL's default (4) is for
    # spinning disks; the portal's tables are read from memory or SSD, where 1.1 is the usual
    # setting. With 4 the planner read all 60,915 measures (and 20,305 change ideas) to find
    # one trust's 1,500, where their foreign-key indexes answer in a third of the time: a
    # trust dashboard built after a write went from 128 to 100 ms (issue 21).
    # Added to any `options` the DATABASE_URL already gives, not instead of them.
    _options = DATABASES["default"]["OPTIONS"]
    _options["options"] = " ".join(filter(None, [
        _options.get("options", ""),
        f"-c random_page_cost={env.float('PG_RANDOM_PAGE_COST', default=1.1)}"]))
else:
    # The embedded default must bear a few people at once: WAL lets reads run beside a
    # write, writers wait (busy timeout) instead of failing, and IMMEDIATE transactions take
    # the write lock up front, so two writers never deadlock into "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organisations.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Throttle failed sign-ins: 5 failures per email+IP locks that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# One way to name who is trying, for the form and for HTTP Basic (organisations/signin.py),
# and the client's address behind the number of reverse proxies the deployment declares.
AXES_USERNAME_CALLABLE = "organisations.signin.username"
AXES_CLIENT_IP_CALLABLE = "organisations.signin.client_ip"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Django passes the email as "username" to authenticate(); count failures against it.
AXES_USERNAME_FORM_FIELD = "username"

# Single sign-on with OpenID Connect (organisations/oidc.py, docs/adr/0004-single-sign-on.md):
# off unless OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are all set. Links to an
# existing account by verified email; never creates accounts or roles. Endpoints left blank
# are discovered from <issuer>/.well-known/openid-configuration on first use (not here).
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_ENABLED = bool(OIDC_ISSUER and OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET)
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your organisation")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_USERINFO_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email"
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATE_CLASS = "organisations.oidc.SignInRequestView"
OIDC_CALLBACK_CLASS = "organisations.oidc.SignInCallbackView"
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("organisations.oidc.PortalOIDCBackend")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# plotly.js is served from the copy inside the plotly Python package: no CDN, no second copy.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("plotly", Path(plotly.__file__).resolve().parent / "package_data"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    # Development serves from the finders; a missing collectstatic folder is expected then.
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="qi-portal@localhost")

# Security: strict when DEBUG is off so `manage.py check --deploy` is clean.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content-Security-Policy (django-csp 4): no inline scripts, nothing from other hosts.
# Plotly draws with inline styles, so style-src allows them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

# REST API: deny by default, every list paginated.
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The token class first: its challenge makes a missing or bad token, or bad Basic
    # credentials, answer 401 with WWW-Authenticate (not 403). A signed-in browser session
    # still works, with CSRF checked on its writes.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organisations.tokens.BearerTokenAuthentication",
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.AutoSchema",
    # One error shape: {"detail", "errors": {field: [...]}} for 400, {"detail"} otherwise.
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Per signed-in user and per anonymous address; a throttled client gets 429 with
    # Retry-After. Counted in each process's memory: approximate across processes, and no
    # new way to fail when Redis is down.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="60/min"),
        "user": env.str("API_USER_RATE", default="1200/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "QI Portal API",
    "DESCRIPTION": "Improvement projects, measures, PDSA cycles and dashboards for NHS trusts. "
    "Aggregate data only: never send patient-identifiable data.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No deep links: Swagger UI puts them as links inside each operation's button, which
    # screen readers cannot reach (axe nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.allow_empty_query_values",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "organisations.models.Unit.Kind",
        "MeasureKindEnum": "measures.models.Measure.Kind",
        "ProjectStatusEnum": "projects.models.Project.Status",
    },
}

# Celery: REDIS_URL unset → tasks run eagerly in-process (the embedded default).
REDIS_URL = env.str("REDIS_URL", default="")
# The default cache (API throttles) stays in each process. "dashboards" holds the
# rendered trust and unit dashboards and each trust's generation token
# (reports.dashboard_cache): shared through Redis when it is configured, so a worker's
# rebuild reaches every web process; in memory on the embedded default. Short socket
# timeouts: a Redis that is down costs a page a fraction of a second, then it is built live.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "dashboards": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "KEY_PREFIX": "qi", "TIMEOUT": 600,
         "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
        if REDIS_URL else
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dashboards",
         "TIMEOUT": 600, "OPTIONS": {"MAX_ENTRIES": 2000}}
    ),
}
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# At-least-once: tasks are idempotent, so a result is never needed (ping opts back in for
# the health checks); a request never waits on the result store.
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True
# A worker killed mid-task (OOM, kill -9) puts the task back instead of acknowledging it.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A broker that refuses connections costs a write about 0.01 s, not a stalled request: the
# data and the dirty mark are committed already and reconcile sends the work later. A hung
# broker (accepting, never answering) is bounded only by socket_timeout below: up to ~15 s.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Redelivery of an unacknowledged task after a worker dies: longer than the longest
    # task (reconcile, 600 s; a rebuild chunk is under a second), or a slow task would run
    # twice at once.
    "visibility_timeout": 2 * 3600,
}
# Two queues: "celery" (the default) for the interactive refresh after a write, "bulk" for
# the national rebuild's chunks, so a saved data point never waits behind a rebuild. A
# worker started with `-Q celery,bulk` serves both; production runs one worker per queue.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "reports.tasks.national_rebuild": {"queue": "bulk"},
    "reports.tasks.rebuild_chunk": {"queue": "bulk"},
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Every periodic schedule lives here, in one place.
CELERY_BEAT_SCHEDULE = {
    "reconcile-dirty-measures": {
        "task": "measures.tasks.reconcile",
        "schedule": timedelta(minutes=5),
    },
    "nightly-national-rebuild": {
        "task": "reports.tasks.national_rebuild",
        "schedule": crontab(hour=2, minute=30),
    },
    # The learning repository's full rebuild (reports/learning.py).
    "nightly-learning-rebuild": {
        "task": "reports.tasks.rebuild_learning",
        "schedule": crontab(hour=3, minute=15),
    },
    # Teams enter data on their own measures' pages: this brings collaborative dashboards
    # up to date with it (and with any rebuild lost while the broker was down).
    "reconcile-collaborative-dashboards": {
        "task": "collaboratives.tasks.reconcile",
        "schedule": timedelta(minutes=5),
    },
    # Trust and unit roll-ups missing, still wanted or older than their newest snapshot
    # (a build lost with the broker); also starts each new month's roll-ups.
    "reconcile-rollups": {
        "task": "reports.tasks.reconcile_rollups",
        "schedule": timedelta(minutes=10),
    },
    # Comparisons of trusts (funnels, national deciles), after the nightly rebuild's
    # snapshots; changes in the day rebuild them too (debounced, reports.tasks).
    "nightly-comparisons": {
        "task": "reports.tasks.build_all_comparisons",
        "schedule": crontab(hour=4, minute=0),
    },
    # The national activity and capability table and the NHS IMPACT figures, after the
    # roll-ups; capability returns rebuild them in the day too (reports.tasks).
    "nightly-national-activity": {
        "task": "reports.tasks.build_national",
        "schedule": crontab(hour=4, minute=30),
    },
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line_forbidden": {"()": "core.logging.OneLineForbidden"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["one_line_forbidden"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own loggers (django.request's 4xx lines) follow LOG_LEVEL too.
        "django": {"level": LOG_LEVEL},
        "django.db.backends": {"level": "WARNING"},
        # Axes logs every successful sign-in at INFO; failures (masked) stay at WARNING.
        "axes": {"level": "WARNING"},
        # One line per task is noise when tasks run in-process (seeding runs dozens).
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
        # WeasyPrint turns fontTools up to DEBUG while it subsets the pack's fonts (to
        # catch its warnings); propagating, that put ~300 debug lines a board pack into
        # the worker's log. Its own warnings still reach the console.
        "fontTools": {"level": "WARNING", "handlers": ["console"], "propagate": False},
    },
}
