"""Redis as a cache that can fail: a circuit breaker in front of every Redis command.

django-redis already turns connection errors into cache misses (``IGNORE_EXCEPTIONS``), but
each failed command still waits for its socket timeout, and a request makes several cache
calls (throttles, balances, reports). After ``CACHE_BREAKER_THRESHOLD`` consecutive failures
the breaker opens and commands fail at once, without touching the network, for
``CACHE_BREAKER_RESET_SECONDS``; then one command is let through to probe Redis again. One
breaker per process, shared by its threads. Selected in settings with django-redis's
``REDIS_CLIENT_CLASS`` option.
"""

import logging
import threading
import time
from typing import Any

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# What counts as "Redis is unavailable": not a bad command, not a serialisation problem.
_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class CacheUnavailable(redis.exceptions.ConnectionError):
    """Raised instead of calling Redis while the breaker is open (django-redis ignores it)."""


class CircuitBreaker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failures = 0
        self.opened_at: float | None = None

    @property
    def threshold(self) -> int:
        return settings.CACHE_BREAKER_THRESHOLD

    @property
    def reset_seconds(self) -> float:
        return settings.CACHE_BREAKER_RESET_SECONDS

    def allow(self) -> bool:
        """True when a command may go to Redis (closed, or open long enough to probe)."""
        with self._lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at >= self.reset_seconds:
                # Half-open: let this one command probe; a failure re-opens for a full period.
                self.opened_at = time.monotonic()
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            if self.opened_at is not None:
                logger.info("cache circuit closed: Redis answers again")
            self.failures = 0
            self.opened_at = None

    def record_failure(self, exc: BaseException) -> None:
        with self._lock:
            self.failures += 1
            if self.failures == 1:
                logger.warning("cache unavailable, serving without it: %s", exc)
            if self.failures >= self.threshold and self.opened_at is None:
                self.opened_at = time.monotonic()
                logger.warning(
                    "cache circuit open after %s failures: Redis skipped for %ss", self.failures, self.reset_seconds
                )

    def reset(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


breaker = CircuitBreaker()


# Deletes that could not reach Redis, replayed before anything else once it answers again:
# a delete is an invalidation (a suspended user's auth record, a revoked access), and a stale
# value must not come back with Redis. Bounded; per process (the process that made the change
# is the one that remembers it; other processes are covered by the values' own timeouts).
_pending_deletes: set[bytes | str] = set()
_pending_lock = threading.Lock()
PENDING_DELETES_MAX = 10_000
_DELETES = {"DEL", "UNLINK"}


def _remember_deletes(args: tuple) -> None:
    if args and str(args[0]).upper() in _DELETES:
        with _pending_lock:
            if len(_pending_deletes) + len(args) - 1 <= PENDING_DELETES_MAX:
                _pending_deletes.update(args[1:])


class ResilientRedis(redis.Redis):
    """A redis-py client whose commands go through the process's circuit breaker."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if not breaker.allow():
            _remember_deletes(args)
            raise CacheUnavailable("cache circuit open")
        try:
            if _pending_deletes:
                self._replay_deletes()
            result = super().execute_command(*args, **options)
        except _UNAVAILABLE as exc:
            _remember_deletes(args)
            breaker.record_failure(exc)
            raise
        breaker.record_success()
        return result

    def _replay_deletes(self) -> None:
        with _pending_lock:
            keys = list(_pending_deletes)
            _pending_deletes.clear()
        try:
            super().execute_command("DEL", *keys)
        except _UNAVAILABLE:
            with _pending_lock:
                _pending_deletes.update(keys)
            raise
        logger.info("cache back: replayed %d delete(s) made while it was unreachable", len(keys))

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        if not breaker.allow():
            raise CacheUnavailable("cache circuit open")
        return super().pipeline(transaction=transaction, shard_hint=shard_hint)
