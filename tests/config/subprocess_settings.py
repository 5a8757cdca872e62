"""Run Python in a fresh interpreter with a chosen environment (settings are read at import)."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

# Variables that would leak the developer's or CI's configuration into a settings test.
_CLEARED_PREFIXES = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "AWS_", "R2_", "CACHE_", "LOG_", "CORS_", "CSRF_")
_CLEARED = {"PROMETHEUS_DB_CACHE_METRICS"}


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED_PREFIXES) and k not in _CLEARED}
    env.update(overrides)
    return env


def run_python(code: str, *, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def load_settings(names: list[str], module: str = "config.settings.base", **env: str) -> dict:
    """The values of the named settings as seen by a fresh process with this environment."""
    code = (
        "import json, django\n"
        "from django.conf import settings\n"
        "django.setup()\n"
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}, default=str))\n"
    )
    result = run_python(code, env=clean_env(DJANGO_SETTINGS_MODULE=module, **env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
