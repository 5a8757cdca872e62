"""Deployment files: kept correct by reading them (no container engine on these machines)."""

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.config.subprocess_settings import BASE_DIR, clean_env

DOCKERFILE = (BASE_DIR / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())
REQUIRED = {
    "DJANGO_SECRET_KEY": "x" * 60,
    "POSTGRES_PASSWORD": "pg-test-password",
    "MINIO_ROOT_USER": "minio-test",
    "MINIO_ROOT_PASSWORD": "minio-test-password",
}


def _has_compose() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


def test_dockerfile_bakes_in_the_models_the_settings_name():
    base = (BASE_DIR / "config" / "settings" / "base.py").read_text()
    for name in ("AI_SENTIMENT_MODEL", "AI_LANGUAGE_MODEL", "AI_CATEGORY_MODEL"):
        default = re.search(rf'{name} = env\.str\("{name}", default="([^"]+)"\)', base).group(1)
        assert f"ARG {name}={default}" in DOCKERFILE


def test_dockerfile_stages_and_a_non_root_gunicorn_runtime():
    stages = re.findall(r"^FROM \S+ AS (\w+)$", DOCKERFILE, re.M)
    assert stages == ["deps", "models", "runtime"]
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    assert re.search(r"^USER app$", runtime, re.M)
    assert "collectstatic" in runtime
    assert '"gunicorn", "config.wsgi:application"' in runtime
    assert "HF_HUB_OFFLINE=1" in runtime


def test_compose_services_and_queues():
    services = COMPOSE["services"]
    assert {"api", "worker", "worker-ai", "beat", "postgres", "redis", "minio", "createbuckets", "migrate"} <= set(
        services
    )
    worker = services["worker"]["command"]
    assert worker[worker.index("-Q") + 1] == "default,scrape,cdn"
    ai = services["worker-ai"]["command"]
    assert ai[ai.index("-Q") + 1] == "ai"
    assert ai[ai.index("--concurrency") + 1] == "1"
    for name in ("api", "worker", "worker-ai", "postgres", "redis", "minio"):
        assert "test" in services[name]["healthcheck"], name


@pytest.mark.skipif(not _has_compose(), reason="docker compose is not installed")
def test_docker_compose_config_parses_and_wires_the_services():
    result = subprocess.run(
        ["docker", "compose", "--env-file", os.devnull, "config", "--format", "json"],
        cwd=BASE_DIR,
        env=clean_env(**REQUIRED),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    api = services["api"]
    assert api["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert api["environment"]["DATABASE_URL"].startswith("postgres://app:pg-test-password@postgres:5432/")
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["createbuckets"]["condition"] == "service_completed_successfully"


@pytest.mark.skipif(not _has_compose(), reason="docker compose is not installed")
@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_compose_has_no_default_credentials(missing):
    env = clean_env(**{k: v for k, v in REQUIRED.items() if k != missing})
    result = subprocess.run(
        ["docker", "compose", "--env-file", os.devnull, "config", "-q"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert missing in result.stderr


def _pins(path) -> dict[str, str]:
    text = (BASE_DIR / path).read_text()
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M)}


def test_the_image_installs_runtime_dependencies_only():
    deps = DOCKERFILE.split("AS deps", 1)[1].split("AS models", 1)[0]
    assert "COPY requirements/base.txt" in deps and "dev.txt" not in DOCKERFILE
    base = _pins("requirements/base.txt")
    for tool in (
        "moto",
        "flask",
        "pytest",
        "pytest-django",
        "factory-boy",
        "cfn-lint",
        "docker",
        "aws-xray-sdk",
        "ruff",
    ):
        assert tool not in base, tool
    assert {"django", "celery", "gunicorn", "psycopg", "torch", "transformers"} <= set(base)
    assert base["torch"].startswith("2.13.0")
    assert "--hash=sha256:" in (BASE_DIR / "requirements/base.txt").read_text()


def test_dev_requirements_are_the_runtime_pins_plus_tools():
    base, dev = _pins("requirements/base.txt"), _pins("requirements/dev.txt")
    assert {name: dev.get(name) for name in base} == base  # tests run against the versions deployed
    assert {"pytest", "pytest-django", "moto", "import-linter", "ruff", "pip-tools"} <= set(dev)
