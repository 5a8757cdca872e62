"""Redis configured but unavailable: requests still succeed, health says "degraded", fast."""

import copy
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings

from config.cache import breaker
from tests.config.subprocess_settings import load_settings


@pytest.fixture(scope="module")
def base_redis_caches() -> dict:
    """CACHES exactly as config/settings/base.py builds them when REDIS_URL is set."""
    return load_settings(["CACHES"], REDIS_URL="redis://127.0.0.1:1/0")["CACHES"]


def _redis_caches(base: dict, port: int) -> dict:
    caches = copy.deepcopy(base)
    caches["default"]["LOCATION"] = f"redis://127.0.0.1:{port}/0"
    return caches


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _fresh_breaker() -> Iterator[None]:
    # One breaker per process: never leave it open for the tests that follow.
    breaker.reset()
    yield
    breaker.reset()


@pytest.fixture
def redis_down(base_redis_caches) -> Iterator[None]:
    # override_settings(CACHES=...) makes Django drop its cache connections (setting_changed).
    with override_settings(CACHES=_redis_caches(base_redis_caches, _closed_port())):
        yield


@pytest.fixture
def redis_hung(base_redis_caches) -> Iterator[None]:
    """A server that accepts connections and never answers: every call waits for its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        with override_settings(CACHES=_redis_caches(base_redis_caches, server.getsockname()[1])):
            yield
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        server.close()


def test_cache_calls_become_misses_when_redis_is_down(redis_down):
    cache.set("k", "v")
    assert cache.get("k", "fallback") == "fallback"
    assert cache.get_or_set("k2", lambda: "computed") == "computed"


@pytest.mark.django_db
def test_api_still_answers_with_redis_down(redis_down, api_client):
    # Throttling and the handlers below read and write the cache on every request.
    response = api_client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["email"] == api_client.user.email


@pytest.mark.django_db
def test_health_is_degraded_not_failing_and_fast_with_redis_down(redis_down, anon_client):
    started = time.perf_counter()
    response = anon_client.get("/api/health")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] != "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert elapsed < 1.0


def test_breaker_opens_so_a_hung_redis_costs_nothing_per_call(redis_hung, settings):
    settings.CACHE_BREAKER_THRESHOLD = 3
    for _ in range(3):  # each waits for the 0.25 s socket timeout
        assert cache.get("k") is None
    assert breaker.is_open
    started = time.perf_counter()
    for _ in range(20):
        cache.get("k")
        cache.set("k", "v")
    assert time.perf_counter() - started < 0.1


def test_breaker_lets_a_probe_through_and_closes_when_redis_answers(redis_hung, settings):
    settings.CACHE_BREAKER_THRESHOLD = 1
    settings.CACHE_BREAKER_RESET_SECONDS = 0.05
    cache.get("k")
    assert breaker.is_open
    time.sleep(0.06)
    assert breaker.allow()  # half-open: one probe goes to Redis
    assert not breaker.allow()  # ... and the others wait for its outcome period
    breaker.record_success()
    assert not breaker.is_open
    assert breaker.allow()


@pytest.mark.skipif("not __import__('os').environ.get('REDIS_URL')", reason="needs a running Redis (REDIS_URL)")
def test_real_redis_round_trip_goes_through_the_breaker_client():
    from django_redis import get_redis_connection

    from config.cache import ResilientRedis

    assert isinstance(get_redis_connection("default"), ResilientRedis)
    cache.set("platform:probe", {"a": 1}, timeout=5)
    assert cache.get("platform:probe") == {"a": 1}
    assert not breaker.is_open
