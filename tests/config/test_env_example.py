"""`.env.example` documents every variable the settings read, with its default."""

import re

from tests.config.subprocess_settings import BASE_DIR

# env("NAME" / env.str("NAME" / env.int(\n "NAME" ... anywhere in the settings package.
_ENV_CALL = re.compile(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def settings_variables() -> set[str]:
    names: set[str] = set()
    for path in (BASE_DIR / "config" / "settings").glob("*.py"):
        names |= set(_ENV_CALL.findall(path.read_text()))
    return names


def test_the_pattern_finds_the_variables():
    # Guards the guard: a regex that matched nothing would make the next test pass vacuously.
    names = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "R2_BUCKET_NAME", "DATABASE_CONNECT_TIMEOUT"} <= names
    assert len(names) > 50


def test_env_example_lists_every_variable():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (BASE_DIR / ".env.example").read_text(), re.M))
    missing = sorted(settings_variables() - documented)
    assert not missing, f"add these to .env.example with their defaults: {missing}"
