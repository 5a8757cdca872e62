"""The API's default throttles: a counter per time window instead of a list of timestamps.

DRF's ``SimpleRateThrottle`` keeps every request time of the window in one cache value and
reads and rewrites the whole list on every request: at the default 1,200/min a busy user's
list holds up to 1,200 floats, pickled both ways on each call. Here each (client, window)
has one integer that ``cache.incr`` bumps atomically, so the cost is constant and
concurrent requests cannot overwrite each other's counts (DRF's read-modify-write can).

The window is fixed (``duration`` seconds, aligned to the epoch): a client can make up to
twice the rate across a window boundary, the usual trade of fixed windows. ``Retry-After``
is the time left in the current window. Cache errors let the request through. The report's
fast path reads the counter with its other keys and counts only a request it serves
(``over_limit``, ``count_request``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class WindowCounterMixin:
    """``allow_request`` and ``wait`` of a ``SimpleRateThrottle`` on a per-window counter."""

    window_end: float = 0.0

    def window_key(self: Any, key: str, now: float) -> str:
        if len(key) > 100:  # a client-supplied address chain: bounded, never stored raw
            key = "throttle_h_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return f"{key}:w{int(now // self.duration)}"

    def over_limit(self: Any, count: Any) -> bool:
        return int(count or 0) >= self.num_requests

    def count_request(self: Any, window_key: str) -> int | None:
        """Add one to the window's counter (created with the window's lifetime); the new count.

        While the cache is down (django-redis answers None instead of raising), the count is
        kept in this process instead, so that a Redis outage never switches throttling off:
        per process rather than global, which is looser but bounded.
        """
        try:
            count = self.cache.incr(window_key)
        except ValueError:  # no counter yet in this window
            if self.cache.add(window_key, 1, timeout=self.duration + 1):
                return 1
            try:
                count = self.cache.incr(window_key)  # another request created it first
            except ValueError:
                count = None  # add() failed and the key is missing: the cache is not answering
        if count is None:
            return local_counters.incr(window_key, ttl=self.duration + 1)
        return count

    def allow_request(self: Any, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        self.window_end = (int(self.now // self.duration) + 1) * self.duration
        # Count first, then compare: concurrent requests each get their own number, so
        # exactly ``num_requests`` pass per window. None: the cache is down, let it through.
        count = self.count_request(self.window_key(key, self.now))
        return count is None or count <= self.num_requests

    def wait(self: Any) -> float | None:
        return max(self.window_end - self.now, 1.0)


class LocalCounters:
    """A bounded in-process stand-in for the cache's counters (used only while it is down)."""

    def __init__(self, max_keys: int = 10_000):
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def incr(self, key: str, *, ttl: float) -> int:
        now = time.monotonic()
        with self._lock:
            count, expires = self._counts.pop(key, (0, now + ttl))
            if expires <= now:
                count, expires = 0, now + ttl
            self._counts[key] = (count + 1, expires)
            while len(self._counts) > self.max_keys:  # oldest first: memory stays bounded
                self._counts.popitem(last=False)
            return count + 1

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


local_counters = LocalCounters()


class UserWindowRateThrottle(WindowCounterMixin, UserRateThrottle):
    """Authenticated users by id, anonymous clients by address (scope ``user``)."""

    def key_for_user(self, user_id: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": user_id}


class AnonWindowRateThrottle(WindowCounterMixin, AnonRateThrottle):
    """Anonymous clients by address (scope ``anon``)."""

    def key_for_user(self, user_id: Any) -> str | None:
        return None  # authenticated requests are not counted by the anonymous throttle


def is_window_throttle(throttle: SimpleRateThrottle) -> bool:
    return isinstance(throttle, WindowCounterMixin)


# --- The public API for a caller outside DRF (the cached report's fast path) -------------------
# It knows the user id from the token and reads every cache key it needs in one round trip:
# ``user_window_keys`` names the counters, ``window_peek`` checks them on the values read, and
# ``window_count`` counts the request once it is served.
UserWindow = tuple[WindowCounterMixin, str]


def user_window_keys(throttle_classes: list[type], *, user_id: Any, cache: Any) -> list[UserWindow] | None:
    """The current window's counter key of each throttle for ``user_id``; None when one of them
    cannot be computed without a request (a throttle other than the window counters, or one on
    another cache): the caller must then let DRF throttle the request."""
    found = []
    for throttle_class in throttle_classes:
        throttle = throttle_class()
        key_for_user = getattr(throttle, "key_for_user", None)
        if key_for_user is None or throttle.cache is not cache:
            return None
        if throttle.rate is None:
            continue
        key = key_for_user(user_id)
        if key is not None:
            found.append((throttle, throttle.window_key(key, throttle.timer())))
    return found


def window_peek(windows: list[UserWindow], counts: dict[str, Any]) -> bool:
    """Whether any counter already read (``counts``: key -> value) is at its limit; nothing is written."""
    return any(throttle.over_limit(counts.get(key)) for throttle, key in windows)


def window_count(windows: list[UserWindow]) -> None:
    """Count one served request in each window."""
    for throttle, key in windows:
        throttle.count_request(key)
