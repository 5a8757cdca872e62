"""Login throttling holds while the cache is down, and the admin login is throttled too (issue 15, finding 5)."""

import pytest
from django.core.cache import cache
from django.test import Client

from config.api.throttling import local_counters

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    local_counters.clear()
    yield
    local_counters.clear()


@pytest.fixture
def cache_down(monkeypatch):
    """django-redis with IGNORE_EXCEPTIONS: every command answers None while Redis is unreachable."""
    for name in ("incr", "add", "get", "get_many", "set"):
        monkeypatch.setattr(cache, name, lambda *args, **kwargs: None)


def _api_login(client: Client, n: int) -> list[int]:
    return [
        client.post(
            "/api/v1/auth/login",
            {"email": "victim@example.com", "password": f"guess-{i}"},
            content_type="application/json",
        ).status_code
        for i in range(n)
    ]


def test_api_login_is_throttled_while_the_cache_is_down(cache_down, settings):
    statuses = _api_login(Client(), 15)
    assert statuses[:10] == [401] * 10
    assert set(statuses[10:]) == {429}


def test_admin_login_is_throttled(user):
    client = Client()
    statuses = [
        client.post("/admin/login/", {"username": user.email, "password": f"wrong-{i}"}).status_code for i in range(12)
    ]
    assert statuses[:10] == [200] * 10  # the form again, with its error
    assert statuses[10:] == [429, 429]
    response = client.post("/admin/login/", {"username": user.email, "password": "x"})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert client.get("/admin/login/").status_code == 200  # showing the form is never throttled


def test_admin_login_is_throttled_while_the_cache_is_down(cache_down, user):
    client = Client()
    statuses = [client.post("/admin/login/", {"username": user.email, "password": "x"}).status_code for _ in range(11)]
    assert statuses[-1] == 429


def test_local_fallback_memory_is_bounded():
    from config.api.throttling import LocalCounters

    counters = LocalCounters(max_keys=100)
    for i in range(1000):
        counters.incr(f"k{i}", ttl=60)
    assert len(counters._counts) == 100
