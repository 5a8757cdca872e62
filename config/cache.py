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
# value must not come back with Redis. Kept twice: in this process's memory (bounded), replayed
# by its next command that reaches Redis; and in the database (``accounts.PendingCacheDelete``),
# replayed every minute by ``accounts.tasks.cache_deletes_replay`` on behalf of every process,
# so the invalidation survives the process that made it.
_pending_deletes: set[bytes | str] = set()
_pending_lock = threading.Lock()
PENDING_DELETES_MAX = 10_000
REPLAY_BATCH = 1_000
_DELETES = {"DEL", "UNLINK"}


def _key_text(key: bytes | str) -> str:
    return key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else str(key)


def _remember_deletes(args: tuple) -> None:
    if args and str(args[0]).upper() in _DELETES:
        with _pending_lock:
            if len(_pending_deletes) + len(args) - 1 <= PENDING_DELETES_MAX:
                _pending_deletes.update(args[1:])
        _persist_deletes([_key_text(key) for key in args[1:]])


def _persist_deletes(keys: list[str]) -> None:
    """Write the keys to the database for any process to replay; never raises (memory still has them)."""
    from django.db import transaction

    from accounts.models import PendingCacheDelete

    rows = [
        PendingCacheDelete(key=key) for key in keys if len(key) <= PendingCacheDelete._meta.get_field("key").max_length
    ]
    if not rows:
        return
    try:
        with transaction.atomic():  # a savepoint inside the caller's transaction: a failure stays here
            PendingCacheDelete.objects.bulk_create(rows, ignore_conflicts=True)
    except Exception:  # noqa: BLE001 - the database is down too: this process's memory is what is left
        logger.warning("could not record %d cache delete(s) for replay in the database", len(rows))


def redis_client() -> Any:
    """The default cache's Redis client (its commands pass the breaker), or None when the cache is not Redis."""
    from django.core.cache import cache

    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    return get_client(write=True) if get_client is not None else None


def pending_deletes_replay() -> int:
    """Delete in Redis every key recorded by a failed delete, then forget them; the number replayed.

    Raises the Redis error when Redis is still unreachable (the rows stay for the next run).
    """
    from accounts.models import PendingCacheDelete

    client = redis_client()
    if client is None:  # not Redis (the local-memory cache): nothing outlives the process anyway
        return PendingCacheDelete.objects.all().delete()[0]
    replayed = 0
    while True:
        batch = list(PendingCacheDelete.objects.order_by("pk").values_list("pk", "key")[:REPLAY_BATCH])
        if not batch:
            return replayed
        client.delete(*[key for _, key in batch])
        PendingCacheDelete.objects.filter(pk__in=[pk for pk, _ in batch]).delete()
        replayed += len(batch)
        logger.info("cache: replayed %d delete(s) recorded while Redis was unreachable", len(batch))


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
