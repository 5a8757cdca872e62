"""Bounded job event streams: each open stream holds a server thread, so they are rationed.

A process serves at most ``JOB_EVENTS_MAX_STREAMS_PER_PROCESS`` streams at a time (so a
gunicorn worker keeps ``threads - JOB_EVENTS_MAX_STREAMS_PER_PROCESS`` threads for
everything else), and one user holds at most ``JOB_EVENTS_MAX_STREAMS_PER_USER`` streams
**across every process**; beyond either, the request is refused with 429
``too_many_streams`` and ``Retry-After`` before any stream starts. Streams are short
(``JOB_EVENTS_MAX_SECONDS``) and resumable with ``Last-Event-ID``, so a client waiting for a
slot loses no event. A slot is given back when the response is closed (the WSGI server
always closes it, also when the client went away before the first byte).

The per-user count across processes lives in Redis (the cache's server, when the cache is
django-redis): one sorted set per user of stream leases scored by their expiry, taken and
checked by one Lua script (atomic: two processes cannot both take the last slot). A lease
lasts ``JOB_EVENTS_MAX_SECONDS`` + ``LEASE_MARGIN_SECONDS``: a stream ends by itself before
that, so a process that dies holding leases blocks its user for at most that long. Without
Redis (the local-memory cache of ``make run``, a single process) or while Redis is down
(the cache's circuit breaker is open), the per-process count is the user's limit.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from config.cache import redis_client
from config.errors import TooManyRequests

logger = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 30
# KEYS[1] the user's leases; ARGV: now (ms), lease expiry (ms), limit, lease id, key ttl (ms).
_TAKE_LEASE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""

_lock = threading.Lock()
_open: dict[Any, int] = {}  # user id -> open streams in this process
_total = 0


def streams_open() -> int:
    """Streams open in this process (for tests and metrics)."""
    return _total


def _refuse(*, per_user: int, scope: str) -> TooManyRequests:
    holder = "you have" if scope == "user" else "the server has"
    return TooManyRequests(
        f"Too many open event streams ({holder} the most allowed). Poll GET /api/v1/analysis/jobs/{{id}} "
        "or reconnect later with Last-Event-ID.",
        code="too_many_streams",
        details={
            "retry_after": max(1, int(settings.JOB_EVENTS_POLL_SECONDS * 4)),
            "limit_per_user": per_user,
            "scope": scope,
        },
    )


def _lease_key(user_id: Any) -> str:
    from django.core.cache import cache

    return cache.make_key(f"sse-streams:user:{user_id}")


def _lease_take(*, user_id: Any, per_user: int) -> str | None:
    """A lease id for one of the user's streams, "" when Redis cannot count (fail open), None when none is left."""
    client = redis_client()
    if client is None:
        return ""
    lease = uuid.uuid4().hex
    now_ms = int(time.time() * 1000)
    lease_ms = int((settings.JOB_EVENTS_MAX_SECONDS + LEASE_MARGIN_SECONDS) * 1000)
    try:
        taken = client.eval(_TAKE_LEASE, 1, _lease_key(user_id), now_ms, now_ms + lease_ms, per_user, lease, lease_ms)
    except Exception:  # noqa: BLE001 - Redis down or breaker open: the per-process count still holds
        logger.warning("stream leases unavailable (Redis): the per-process stream limit applies alone")
        return ""
    return lease if int(taken) == 1 else None


def _lease_release(*, user_id: Any, lease: str) -> None:
    client = redis_client() if lease else None
    if client is None:
        return
    try:
        client.zrem(_lease_key(user_id), lease)
    except Exception:  # noqa: BLE001 - the lease expires by itself
        logger.warning("a stream lease could not be released; it expires by itself")


def stream_slot_take(*, user_id: Any) -> str:
    """Reserve a stream slot for ``user_id`` (returns its lease id) or raise 429 ``too_many_streams``."""
    global _total
    per_user, per_process = settings.JOB_EVENTS_MAX_STREAMS_PER_USER, settings.JOB_EVENTS_MAX_STREAMS_PER_PROCESS
    with _lock:
        mine = _open.get(user_id, 0)
        if mine >= per_user or _total >= per_process:
            raise _refuse(per_user=per_user, scope="user" if mine >= per_user else "server")
        _open[user_id] = mine + 1
        _total += 1
    lease = _lease_take(user_id=user_id, per_user=per_user)
    if lease is None:  # the user's streams in other processes hold the rest
        stream_slot_release(user_id=user_id)
        raise _refuse(per_user=per_user, scope="user")
    return lease


def stream_slot_release(*, user_id: Any, lease: str = "") -> None:
    global _total
    with _lock:
        left = _open.get(user_id, 0) - 1
        if left > 0:
            _open[user_id] = left
        else:
            _open.pop(user_id, None)
        _total = max(0, _total - 1)
    _lease_release(user_id=user_id, lease=lease)


class SlotStream:
    """Iterates ``events`` and gives the slot back once, when closed or exhausted."""

    def __init__(self, events: Iterator[str], *, user_id: Any, lease: str = "") -> None:
        self._events, self._user_id, self._lease, self._held = events, user_id, lease, True

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._events
        finally:
            self.close()

    def close(self) -> None:
        if self._held:
            self._held = False
            close = getattr(self._events, "close", None)
            if close is not None:
                close()
            stream_slot_release(user_id=self._user_id, lease=self._lease)
