"""The default throttles: one counter per client and time window, atomic, with Retry-After."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from config.api.throttling import UserWindowRateThrottle
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class _ThreePerMinute(UserWindowRateThrottle):
    rate = "3/min"


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _request(user):
    request = APIView().initialize_request(APIRequestFactory().get("/"))
    force_authenticate(request, user=user)
    request.user = user
    return request


def _throttle(clock: _Clock) -> _ThreePerMinute:
    throttle = _ThreePerMinute()
    throttle.timer = clock
    return throttle


def test_counts_per_window_and_says_when_to_come_back():
    user, clock = UserFactory(), _Clock(6_000_000 * 60 + 15.0)  # 15 s into a window
    request = _request(user)
    assert [_throttle(clock).allow_request(request, None) for _ in range(3)] == [True] * 3
    refused = _throttle(clock)
    assert refused.allow_request(request, None) is False
    assert refused.wait() == pytest.approx(45.0)
    key = refused.window_key(refused.get_cache_key(request, None), clock.now)
    assert cache.get(key) == 4  # an integer (refused requests count too), not a list of times
    clock.now += 45.0  # the next window
    assert _throttle(clock).allow_request(request, None) is True
    # another user has a budget of their own
    assert _throttle(clock).allow_request(_request(UserFactory()), None) is True


def test_concurrent_requests_never_exceed_the_rate():
    user, clock = UserFactory(), _Clock(6_000_001 * 60 + 1.0)
    request, allowed, lock = _request(user), [], threading.Lock()
    barrier = threading.Barrier(12)

    class _TenPerMinute(UserWindowRateThrottle):
        rate = "10/min"

    def worker() -> None:
        barrier.wait()
        for _ in range(5):
            throttle = _TenPerMinute()
            throttle.timer = clock
            ok = throttle.allow_request(request, None)
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 10  # each request got its own count: none slipped through
