"""Benchmark settings: the base settings on a throwaway database, media directory and cache.

The runner (bench/pipeline.py, bench/report.py) sets the ``BENCH_*`` variables below in
the environment of its child processes; the developer's ``DATABASE_URL``, ``REDIS_URL`` and
``MEDIA_ROOT`` are deliberately ignored so that a benchmark never touches the dev database.

- ``BENCH_DATABASE_URL``: the benchmark's own database (required).
- ``BENCH_MEDIA_ROOT``: where the CDN step writes renditions (required).
- ``BENCH_REDIS_URL`` / ``BENCH_CACHE_PREFIX``: Redis cache with a per-run key prefix;
  unset: local-memory cache.
- ``BENCH_LOG_FILE``: where request logs go (the web process logs a line per request, as in
  production; a file keeps them off the terminal).

Everything else is production-like: DEBUG off, the full middleware stack, JWT auth, DRF
throttles (rates high enough never to reject, so the throttle's cache read and write still
happen on every request), the dataset provider on the bundled sample data, the rule-based
engine and eager (in-process) tasks. ``bench.middleware.ServerTimingMiddleware`` is added
outermost to report the server-side time of each response.
"""

import os
from pathlib import Path

import environ

from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR, LOGGING, MIDDLEWARE, REST_FRAMEWORK

_env = environ.Env()

SECRET_KEY = os.environ.get("BENCH_SECRET_KEY") or "bench-only-" + "x" * 50
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"

DATABASES = {"default": _env.db_url_config(os.environ["BENCH_DATABASE_URL"])}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}

_redis = os.environ.get("BENCH_REDIS_URL", "")
if _redis:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _redis,
            "TIMEOUT": 300,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "REDIS_CLIENT_CLASS": "config.cache.ResilientRedis",
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
                "IGNORE_EXCEPTIONS": True,
            },
            "KEY_PREFIX": os.environ.get("BENCH_CACHE_PREFIX", "bench"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bench"}}

MEDIA_ROOT = Path(os.environ["BENCH_MEDIA_ROOT"])
EXPORTS_ROOT = MEDIA_ROOT.parent / f"{MEDIA_ROOT.name}-exports"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # profiles.models.Export's storage (private, outside MEDIA_ROOT, as in the base settings).
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(EXPORTS_ROOT), "base_url": None},
    },
}
CDN_BASE_URL = ""

SCRAPER_PROVIDER = "dataset"
SCRAPER_DATASET_DIR = BASE_DIR / "sample_data"
CDN_LOCAL_SOURCE_ROOTS = [str(SCRAPER_DATASET_DIR)]
AI_ENGINE = "rules"
CELERY_BROKER_URL = ""
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PIPELINE_EAGER_THREAD = False
PROMETHEUS_DB_CACHE_METRICS = False

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeding users only
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        # Per second, so each user's throttle history stays small, as at production rates.
        "anon": "1000000/s",
        "user": "1000000/s",
    },
}

MIDDLEWARE = ["bench.middleware.ServerTimingMiddleware", *MIDDLEWARE]

_log_file = os.environ.get("BENCH_LOG_FILE", "")
if _log_file:
    LOGGING = {
        **LOGGING,
        "handlers": {
            "console": {
                "class": "logging.FileHandler",
                "filename": _log_file,
                "formatter": "text",
                "filters": ["request_id"],
            }
        },
    }
