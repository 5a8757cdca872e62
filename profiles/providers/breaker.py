"""A circuit breaker for a paid provider, shared by every process through the Django cache.

After ``SCRAPER_BREAKER_THRESHOLD`` consecutive failed fetches the circuit opens for
``SCRAPER_BREAKER_RESET_SECONDS``: calls are refused at once (``ProviderUnavailable``) instead
of piling retries on a provider that is down. When the time is up one call goes through
(half-open); its success closes the circuit, its failure opens it again for another period.

The state lives in the cache (Redis in production) so that web and worker processes agree.
If the cache itself fails, an in-process copy keeps the breaker working per process.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_FAILURES_TTL = 24 * 3600
_local: dict[str, float] = {}
_local_lock = threading.Lock()


class CircuitBreaker:
    def __init__(self, name: str, *, threshold: int | None = None, reset_seconds: float | None = None):
        self.name = name
        self.threshold = threshold if threshold is not None else settings.SCRAPER_BREAKER_THRESHOLD
        self.reset_seconds = reset_seconds if reset_seconds is not None else settings.SCRAPER_BREAKER_RESET_SECONDS
        self._failures_key = f"scraper:breaker:{name}:failures"
        self._open_key = f"scraper:breaker:{name}:open_until"

    # The cache may be unreachable; the local dict then stands in for it.
    def _get(self, key: str) -> float:
        try:
            value = cache.get(key)
        except Exception:  # noqa: BLE001 - any cache backend error means "use the local copy"
            with _local_lock:
                value = _local.get(key)
        return float(value or 0.0)

    def _set(self, key: str, value: float, timeout: float) -> None:
        with _local_lock:
            _local[key] = value
        try:
            cache.set(key, value, timeout=max(int(timeout), 1))
        except Exception:  # noqa: BLE001
            logger.warning("breaker %s: cache unavailable, state kept in-process", self.name)

    def _delete(self) -> None:
        with _local_lock:
            _local.pop(self._failures_key, None)
            _local.pop(self._open_key, None)
        try:
            cache.delete_many([self._failures_key, self._open_key])
        except Exception:  # noqa: BLE001
            logger.warning("breaker %s: cache unavailable, state kept in-process", self.name)

    def is_open(self) -> bool:
        return time.time() < self._get(self._open_key)

    def seconds_until_retry(self) -> float:
        return max(self._get(self._open_key) - time.time(), 0.0)

    def record_success(self) -> None:
        if self._get(self._failures_key) or self._get(self._open_key):
            self._delete()

    def record_failure(self) -> None:
        # get+set instead of incr: an occasional lost increment under a race only delays
        # opening by one failure, and this works identically on every cache backend.
        failures = self._get(self._failures_key) + 1
        self._set(self._failures_key, failures, _FAILURES_TTL)
        if failures >= self.threshold:
            if not self.is_open():
                logger.warning("breaker %s: open for %ss after %d failures", self.name, self.reset_seconds, failures)
            self._set(self._open_key, time.time() + self.reset_seconds, self.reset_seconds + 60)

    def reset(self) -> None:
        self._delete()
