"""Settings: embedded defaults, the variables that switch components, production safety.

Settings are read once per process, so each case runs in a fresh interpreter with exactly
the environment under test.
"""

import secrets

import pytest

from tests.config.subprocess_settings import BASE_DIR, clean_env, load_settings, manage, run_python

pytestmark = pytest.mark.slow

NAMES = [
    "DATABASES",
    "CACHES",
    "STORAGES",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_ENDPOINT_URL",
    "CORS_ALLOWED_ORIGINS",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "LOG_FORMAT",
]


def production_env(**extra: str) -> dict[str, str]:
    values = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
    }
    return clean_env(**{**values, **extra})


def test_embedded_defaults_need_nothing_installed():
    s = load_settings(NAMES)
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["DATABASES"]["default"]["NAME"].endswith("db.sqlite3")
    assert s["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert s["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert s["CELERY_BROKER_URL"] == "memory://localhost/"
    assert s["CELERY_TASK_ALWAYS_EAGER"] is True
    assert s["DEBUG"] is True
    assert s["LOG_FORMAT"] == "text"


def test_urls_switch_to_postgres_redis_broker_and_s3():
    s = load_settings(
        NAMES,
        DATABASE_URL="postgres://app:pw@db.internal:5433/analytics",
        REDIS_URL="redis://cache.internal:6379/4",
        CELERY_BROKER_URL="amqp://mq.internal:5672//",
        AWS_STORAGE_BUCKET_NAME="images",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="example-secret",
        AWS_S3_ENDPOINT_URL="http://minio:9000",
        CORS_ALLOWED_ORIGINS="https://app.example.com,https://www.example.com",
        CSRF_TRUSTED_ORIGINS="https://admin.example.com",
    )
    db = s["DATABASES"]["default"]
    assert (db["ENGINE"], db["NAME"], db["HOST"], db["PORT"], db["USER"]) == (
        "django.db.backends.postgresql",
        "analytics",
        "db.internal",
        5433,
        "app",
    )
    assert db["OPTIONS"]["connect_timeout"] == 5
    cache = s["CACHES"]["default"]
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["LOCATION"] == "redis://cache.internal:6379/4"
    assert cache["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    assert cache["OPTIONS"]["REDIS_CLIENT_CLASS"] == "config.cache.ResilientRedis"
    assert s["CELERY_BROKER_URL"] == "amqp://mq.internal:5672//"
    assert s["CELERY_TASK_ALWAYS_EAGER"] is False
    assert s["STORAGES"]["default"]["BACKEND"] == "cdn.storage.ObjectStorage"
    assert s["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert s["CORS_ALLOWED_ORIGINS"] == ["https://app.example.com", "https://www.example.com"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://admin.example.com"]


def test_r2_names_are_aliases_of_the_aws_ones():
    s = load_settings(
        NAMES,
        R2_BUCKET_NAME="r2-bucket",
        R2_ACCESS_KEY_ID="r2-key",
        R2_SECRET_ACCESS_KEY="r2-secret",
        R2_ENDPOINT_URL="https://acc.r2.cloudflarestorage.com",
    )
    assert s["AWS_STORAGE_BUCKET_NAME"] == "r2-bucket"
    assert s["AWS_ACCESS_KEY_ID"] == "r2-key"
    assert s["AWS_SECRET_ACCESS_KEY"] == "r2-secret"
    assert s["AWS_S3_ENDPOINT_URL"] == "https://acc.r2.cloudflarestorage.com"
    assert s["STORAGES"]["default"]["BACKEND"] == "cdn.storage.ObjectStorage"


def test_prometheus_db_and_cache_metrics_are_opt_in():
    off = load_settings(["DATABASES", "CACHES"], REDIS_URL="redis://127.0.0.1:6379/9")
    assert off["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert off["CACHES"]["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    on = load_settings(
        ["DATABASES", "CACHES"],
        REDIS_URL="redis://127.0.0.1:6379/9",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x",
        PROMETHEUS_DB_CACHE_METRICS="true",
    )
    assert on["DATABASES"]["default"]["ENGINE"] == "django_prometheus.db.backends.postgresql"
    assert on["CACHES"]["default"]["BACKEND"] == "django_prometheus.cache.backends.redis.RedisCache"
    local = load_settings(["CACHES"], PROMETHEUS_DB_CACHE_METRICS="true")
    assert local["CACHES"]["default"]["BACKEND"] == "django_prometheus.cache.backends.locmem.LocMemCache"


def test_production_check_deploy_prints_no_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr.upper(), result.stderr


def test_production_settings_are_hardened():
    s = load_settings(
        ["DEBUG", "LOG_FORMAT", "SESSION_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "ALLOWED_HOSTS"],
        module="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="api.example.com",
    )
    assert s == {
        "DEBUG": False,
        "LOG_FORMAT": "json",
        "SESSION_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "ALLOWED_HOSTS": ["api.example.com"],
    }


@pytest.mark.parametrize(
    ("missing", "message"),
    [("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY must be set"), ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS must be")],
)
def test_production_refuses_to_start_half_configured(missing, message):
    env = production_env()
    del env[missing]
    # The local fallbacks (.secret_key file, localhost hosts) must not apply.
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_refuses_a_short_secret_key():
    result = manage("check", env=production_env(DJANGO_SECRET_KEY="too-short"))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_web_application_does_not_import_torch_or_transformers():
    code = (
        "import sys\n"
        "import config.wsgi\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns  # import every URL module, hence every view\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'transformers'})\n"
        "print('HEAVY', heavy)\n"
    )
    result = run_python(code, env=clean_env(DJANGO_SETTINGS_MODULE="config.settings.base"))
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8080", "https://app.localhost"])
def test_production_refuses_a_local_cors_origin(origin):
    result = manage("check", env=production_env(CORS_ALLOWED_ORIGINS=f"https://app.example.com,{origin}"))
    assert result.returncode != 0
    assert "CORS_ALLOWED_ORIGINS may not name a local origin" in result.stderr


def test_production_has_no_cors_origin_by_default_and_renders_json_only():
    s = load_settings(
        ["CORS_ALLOWED_ORIGINS", "REST_FRAMEWORK"],
        module="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="api.example.com",
    )
    assert s["CORS_ALLOWED_ORIGINS"] == []
    assert s["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"] == ["rest_framework.renderers.JSONRenderer"]


def test_production_settings_never_write_a_secret_key_file(tmp_path):
    key_file = BASE_DIR / ".secret_key"
    existed = key_file.exists()
    before = key_file.read_bytes() if existed else None
    if existed:
        key_file.rename(tmp_path / "saved")
    try:
        env = production_env()
        del env["DJANGO_SECRET_KEY"]
        result = manage("check", env=env)
        assert result.returncode != 0
        assert not key_file.exists()
    finally:
        if existed:
            (tmp_path / "saved").rename(key_file)
            assert key_file.read_bytes() == before
