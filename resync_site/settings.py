"""Settings for Resync: one module, two profiles chosen by ``RESYNC_ENV``.

The embedded default (``development``) needs no environment at all: SQLite in
WAL mode, SqliteHuey and the key ring under ``var/``, the in-memory channel
layer and local caches. ``production`` requires ``SECRET_KEY``,
``DATABASE_URL``, ``REDIS_URL`` and ``ALLOWED_HOSTS`` and fails fast without them.
"""

from __future__ import annotations

import datetime
import os
import secrets
import sys
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from resync_site.logging import log_format

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] and friends be subscripted at run time

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

RESYNC_ENV = env.str("RESYNC_ENV", default="development")
if RESYNC_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"RESYNC_ENV must be development, production or test, not {RESYNC_ENV!r}")
PRODUCTION = RESYNC_ENV == "production"

VAR_DIR = Path(env.str("RESYNC_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _require(name: str) -> str:
    """Return a required production variable or fail naming it."""
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} is required when RESYNC_ENV=production (set it in the environment or .env)")
    return value


def _embedded_secret_key() -> str:
    """Return the development secret key, generated once into var/ (mode 0600)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = _require("SECRET_KEY")
    _database_url = _require("DATABASE_URL")
    REDIS_URL: str | None = _require("REDIS_URL")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required when RESYNC_ENV=production")
    DEBUG = False
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
    _database_url = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'resync.sqlite3'}")
    REDIS_URL = env.str("REDIS_URL", default="") or None
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
    DEBUG = env.bool("DEBUG", default=False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "channels",
    "huey.contrib.djhuey",
    "audit",
    "cachemig",
    "tws",
    "etl",
    "resync_site",
    "axes",
    "csp",
    "ninja",  # Swagger UI from the installed package, not a CDN
]

# The bundled pipeline run by hand with RESYNC_PROCESS_ROLE=pipeline only loads positions through etl's
# models: with just the apps they need, django.setup() costs ~0.5 s of CPU instead of ~1.3 s. (Run by the
# runner it sets up no Django at all: it hands the positions to the worker.)
RESYNC_PROCESS_ROLE = env.str("RESYNC_PROCESS_ROLE", default="")
if RESYNC_PROCESS_ROLE not in {"", "pipeline"}:
    raise ImproperlyConfigured(f"RESYNC_PROCESS_ROLE must be empty or pipeline, not {RESYNC_PROCESS_ROLE!r}")
if RESYNC_PROCESS_ROLE == "pipeline":
    INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "audit", "etl"]

# Django's and django-prometheus's middleware, subclassed so that under ASGI their hooks run on the
# event loop instead of costing two thread hops each (resync_site/inline_middleware.py).
MIDDLEWARE = [
    "resync_site.inline_middleware.PrometheusBeforeMiddleware",
    "resync_site.middleware.CorrelationIdMiddleware",
    "resync_site.middleware.ApiErrorShapeMiddleware",
    "resync_site.inline_middleware.SecurityMiddleware",
    "resync_site.inline_middleware.SessionMiddleware",
    "resync_site.inline_middleware.LocaleMiddleware",
    "resync_site.inline_middleware.CommonMiddleware",
    "resync_site.inline_middleware.CsrfViewMiddleware",
    "resync_site.inline_middleware.AuthenticationMiddleware",
    "resync_site.middleware.UserContextMiddleware",
    "resync_site.inline_middleware.MessageMiddleware",
    "resync_site.inline_middleware.XFrameOptionsMiddleware",
    "resync_site.inline_middleware.CSPMiddleware",
    "resync_site.inline_middleware.PrometheusAfterMiddleware",
    # Async-capable: no thread hop unless a sign-in is locked out.
    "axes.middleware.AxesMiddleware",
]
# Django's checks for these three compare dotted paths; resync.W002-W004 check the same by class.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "resync_site.urls"
ASGI_APPLICATION = "resync_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
DATABASES = {"default": env.db_url_config(_database_url)}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["ENGINE"] = "django_prometheus.db.backends.sqlite3"
    _db["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write
        # lock at BEGIN so concurrent writers queue instead of failing on upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not :memory:, so that threads and subprocesses in tests share it (pytest-xdist suffixes it).
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-resync.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = "django_prometheus.db.backends.postgresql"
    _db.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    _db.setdefault("CONN_HEALTH_CHECKS", True)
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    # Under Daphne each request runs on its own thread: persistent connections pile up one per
    # request thread. A bounded pool (psycopg_pool) keeps the count fixed; requests wait for a slot.
    if env.bool("DATABASE_POOL", default=PRODUCTION):
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=20),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
if env.str("RESYNC_TEST_DB_NAME", default=""):
    _db["TEST"] = {**_db.get("TEST", {}), "NAME": env.str("RESYNC_TEST_DB_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- caches ---------------------------------------------------------------
# `default` is cachemig's migrating backend: each key is served by `legacy` or
# `new` as the flag MIGRATION_USE_NEW_CACHE says, written to both while
# dual-writing (docs/cache-migration.md). Key prefix, version and key function
# are the migrating cache's; the two sides only store.
_local = "django.core.cache.backends.locmem.LocMemCache"
_new_cache: dict[str, object] = {"BACKEND": _local, "LOCATION": "resync-new"}
if REDIS_URL:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    _new_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHEMIG_NEW_CACHE_URL", default=REDIS_URL),
        # A dead Redis must fail fast: the migrating cache falls back to legacy and its breaker opens.
        "OPTIONS": {
            "socket_connect_timeout": env.float("CACHEMIG_NEW_CACHE_CONNECT_TIMEOUT", default=0.25),
            "socket_timeout": env.float("CACHEMIG_NEW_CACHE_SOCKET_TIMEOUT", default=0.25),
            "retry": Retry(NoBackoff(), 0),
        },
    }
CACHES: dict[str, dict[str, object]] = {
    "default": {
        "BACKEND": "cachemig.backends.MigratingCache",
        "LOCATION": "default",
        "TIMEOUT": env.int("CACHEMIG_DEFAULT_TIMEOUT", default=300),
        "OPTIONS": {
            "LEGACY_ALIAS": "legacy",
            "NEW_ALIAS": "new",
            "DUAL_WRITE": env.bool("CACHEMIG_DUAL_WRITE", default=True),
            "WARM_ON_MISS": env.bool("CACHEMIG_WARM_ON_MISS", default=False),
            "SHADOW_SAMPLE_RATE": env.float("CACHEMIG_SHADOW_SAMPLE_RATE", default=0.0),
            "BREAKER_FAILURE_THRESHOLD": env.int("CACHEMIG_BREAKER_FAILURE_THRESHOLD", default=5),
            "BREAKER_RESET_SECONDS": env.float("CACHEMIG_BREAKER_RESET_SECONDS", default=5.0),
            "GUARD_WINDOW_SECONDS": env.int("CACHEMIG_GUARD_WINDOW_SECONDS", default=60),
            "GUARD_MAX_ERROR_RATIO": env.float("CACHEMIG_GUARD_MAX_ERROR_RATIO", default=0.05),
            "GUARD_MAX_FALLBACK_RATIO": env.float("CACHEMIG_GUARD_MAX_FALLBACK_RATIO", default=0.05),
        },
    },
    "legacy": {"BACKEND": _local, "LOCATION": "resync-legacy"},
    "new": _new_cache,
}

# --- background work (Huey) -----------------------------------------------
HUEY: dict[str, object]
if REDIS_URL:
    import redis as _redis

    HUEY = {
        "huey_class": "resync_site.huey_app.ResyncRedisHuey",
        "name": "resync",
        # A bounded connect: with Redis unreachable an enqueue fails in seconds (the committed job waits for
        # the reaper, docs/etl.md), instead of holding the request for the kernel's TCP timeout.
        "connection_pool": _redis.ConnectionPool.from_url(REDIS_URL, socket_connect_timeout=3),
        "immediate": False,
        "utc": True,
    }
else:
    HUEY = {
        "huey_class": "resync_site.huey_app.ResyncSqliteHuey",
        "name": "resync",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": False,
        "utc": True,
    }
HUEY["consumer"] = {"workers": env.int("HUEY_WORKERS", default=4), "worker_type": "thread"}

# --- websockets -----------------------------------------------------------
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py's default 5 s socket timeout equals channels_redis's 5 s blocking read:
            # an idle consumer would die with "Timeout reading". Give the read room.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}], "capacity": 5000},
        }
        if REDIS_URL
        else {
            "BACKEND": "resync_site.channel_layers.ThreadSafeInMemoryChannelLayer",
            # Bursts of log lines must queue, not be dropped; late clients fill gaps from the database.
            "CONFIG": {"capacity": 5000, "expiry": 60},
        }
    )
}

# --- auth, i18n, static ---------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "resync_site" / "locale"]  # the one catalogue of the project (makemessages writes here)
FORMAT_MODULE_PATH = ["resync_site.formats"]  # compact dates and times in lists (resync_site/formats/)
TIME_ZONE = "America/Sao_Paulo"  # display; storage is UTC (USE_TZ)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- security -------------------------------------------------------------
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"  # a page that must be framed opts in with @xframe_options_sameorigin
# Every page: scripts, styles and connections from this origin only (the admin, the live page, the
# dashboard and the API docs load nothing else); `ws:`/`wss:` of the same host are covered by 'self'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Websockets: the Origins a handshake may come from (scheme://host[:port]); none set means the same
# origin as the page (development). An open socket re-checks its user this often (seconds).
RESYNC_WS_ALLOWED_ORIGINS = env.list("RESYNC_WS_ALLOWED_ORIGINS", default=CSRF_TRUSTED_ORIGINS if PRODUCTION else [])
RESYNC_WS_RECHECK_SECONDS = env.float("RESYNC_WS_RECHECK_SECONDS", default=2.0)
# /api/docs and /api/openapi.json: public in development, behind a staff login in production.
RESYNC_API_DOCS_PUBLIC = env.bool("RESYNC_API_DOCS_PUBLIC", default=not PRODUCTION)

# --- Resync platform ------------------------------------------------------
# Heavy periodic work (verification, archival) runs this often.
# The operations dashboard's cards are built at most once per this many seconds per language (0: every time).
RESYNC_DASHBOARD_CACHE_SECONDS = env.int("RESYNC_DASHBOARD_CACHE_SECONDS", default=5)
# Each user's permission set is kept per process this long (resync_site/permissions.py): a change made
# in the process applies at once, one made by another process within this bound. 0 turns it off.
RESYNC_PERMISSION_CACHE_SECONDS = env.float("RESYNC_PERMISSION_CACHE_SECONDS", default=5.0)
# The counter behind core.rates.rate_check (core imports nothing of ours; the root names it).
# Production counts every budget in the Redis sliding window that all processes share, whatever the flag
# MIGRATION_USE_NEW_RATE_LIMIT says (docs/decisions/rate-budget-shared-in-production.md);
# RESYNC_RATE_LIMIT_SHARED=false (then restart) hands the choice back to the flag.
RESYNC_RATE_LIMIT_SHARED = env.bool("RESYNC_RATE_LIMIT_SHARED", default=PRODUCTION)
RESYNC_RATE_LIMITER = (
    "cachemig.ratelimit.check_rate_shared" if RESYNC_RATE_LIMIT_SHARED else "cachemig.ratelimit.check_rate"
)
# django-axes first: it refuses a sign-in while its username and address are locked out.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "resync_site.permissions.CachedModelBackend"]
# Sign-in throttling (django-axes, database handler): after AXES_FAILURE_LIMIT failures for one username
# from one address, that pair is refused for AXES_COOLOFF_TIME; a success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Unknown bearer tokens allowed per client address and minute before the API answers 429.
RESYNC_BAD_TOKEN_LIMIT = env.int("RESYNC_BAD_TOKEN_LIMIT", default=20)
AXES_LOCKOUT_CALLABLE = "resync_site.views.lockout"
# A username that names no user is counted under a keyed digest: a password typed there is never stored.
AXES_USERNAME_CALLABLE = "resync_site.auth.axes_username"
AXES_VERBOSE = False
# Behind nginx the client's address is the last hop of X-Forwarded-For (docs/operations.md).
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=1 if PRODUCTION else 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)
RESYNC_HEAVY_TASK_INTERVAL_SECONDS = env.int(
    "RESYNC_HEAVY_TASK_INTERVAL_SECONDS", default=6 * 3600 if PRODUCTION else 2 * 3600
)
# /health/detailed and /metrics: open in development, staff/token/network in production.
RESYNC_OBSERVABILITY_TOKEN = env.str("RESYNC_OBSERVABILITY_TOKEN", default="")
RESYNC_METRICS_ALLOWED_NETWORKS = env.list("RESYNC_METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
RESYNC_PROTECT_OBSERVABILITY = env.bool("RESYNC_PROTECT_OBSERVABILITY", default=PRODUCTION)
# Apps declare their health components, lifecycle hooks, embedded servers and
# demo loaders on their AppConfig (see resync_site/hooks.py).
# `manage.py worker` serves its own metrics here (0 disables); Prometheus scrapes each worker.
RESYNC_WORKER_METRICS_PORT = env.int("RESYNC_WORKER_METRICS_PORT", default=9108)
RESYNC_WORKER_METRICS_HOST = env.str("RESYNC_WORKER_METRICS_HOST", default="127.0.0.1")
RESYNC_SHUTDOWN_GRACE_SECONDS = env.float("RESYNC_SHUTDOWN_GRACE_SECONDS", default=3.0)

# App settings an operator may set from the environment (defaults and checks live in each app's conf.py):
# short windows for drills and small deployments, longer ones for large fleets.
_APP_SETTINGS_FROM_ENV = {
    "ETL_STALE_SECONDS": env.float,
    "ETL_PENDING_REQUEUE_SECONDS": env.float,
    "ETL_REAPER_INTERVAL_SECONDS": env.int,
    "ETL_CHILD_NICE": env.int,
    "ETL_RETENTION_DAYS": env.float,
    "ETL_RETENTION_FAILED_DAYS": env.float,
    "TWS_TRANSITION_RETENTION_DAYS": env.float,
    "TWS_SYNC_RUN_RETENTION_DAYS": env.float,
    "ETL_DEMO_SERVER_PORT": env.int,
    "TWS_SIMULATOR_PORT": env.int,
    "ETL_COMMANDS": env.json,  # {"name": ["argv", ...]}: the only programs a System may run
    "ETL_REPORT_ROOTS": env.list,  # /srv/resync,/data/reports: report folders must lie under one of these
    "TWS_MONITOR_INTERVAL_SECONDS": env.int,
    "TWS_CACHE_TTL_STATUS": env.int,
    "TWS_CACHE_TTL_STATIC": env.int,
    "CACHEMIG_GUARD_INTERVAL_SECONDS": env.int,
}
for _name, _read in _APP_SETTINGS_FROM_ENV.items():
    if env.str(_name, default=""):
        globals()[_name] = _read(_name)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# JSON for log shippers (always in production); one readable line on a developer's terminal.
_STDOUT_IS_TERMINAL = sys.stdout.isatty()
LOG_FORMAT = log_format(
    requested=env.str("LOG_FORMAT", default=""), production=PRODUCTION, stdout_is_terminal=_STDOUT_IS_TERMINAL
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "resync_site.logging.ContextFilter"},
        "redact": {"()": "resync_site.logging.RedactionFilter"},
    },
    "formatters": {
        "json": {"()": "resync_site.logging.JsonFormatter"},
        "console": {"()": "resync_site.logging.ConsoleFormatter", "colour": _STDOUT_IS_TERMINAL},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "huey": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
# Largest request body (bytes), chunked or not: the API answers 413 `payload_too_large` above it.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)
