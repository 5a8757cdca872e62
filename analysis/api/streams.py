"""Bounded job event streams: each open stream holds a server thread, so they are rationed.

A process serves at most ``JOB_EVENTS_MAX_STREAMS_PER_PROCESS`` streams at a time and one
user at most ``JOB_EVENTS_MAX_STREAMS_PER_USER`` of them; beyond, the request is refused
with 429 ``too_many_streams`` and ``Retry-After`` before any stream starts. Streams are short
(``JOB_EVENTS_MAX_SECONDS``) and resumable with ``Last-Event-ID``, so a client waiting for a
slot loses no event. The counts are per process (gunicorn worker): the guarantee is that a
worker keeps ``threads - JOB_EVENTS_MAX_STREAMS_PER_PROCESS`` threads for everything else.
A slot is given back when the response is closed (the WSGI server always closes it, also
when the client went away before the first byte).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from config.errors import TooManyRequests

_lock = threading.Lock()
_open: dict[Any, int] = {}  # user id -> open streams in this process
_total = 0


def streams_open() -> int:
    """Streams open in this process (for tests and metrics)."""
    return _total


def stream_slot_take(*, user_id: Any) -> None:
    """Reserve a stream slot for ``user_id`` or raise 429 ``too_many_streams``."""
    global _total
    per_user, per_process = settings.JOB_EVENTS_MAX_STREAMS_PER_USER, settings.JOB_EVENTS_MAX_STREAMS_PER_PROCESS
    with _lock:
        mine = _open.get(user_id, 0)
        if mine >= per_user or _total >= per_process:
            scope = "you have" if mine >= per_user else "the server has"
            raise TooManyRequests(
                f"Too many open event streams ({scope} the most allowed). Poll GET /api/v1/analysis/jobs/{{id}} "
                "or reconnect later with Last-Event-ID.",
                code="too_many_streams",
                details={
                    "retry_after": max(1, int(settings.JOB_EVENTS_POLL_SECONDS * 4)),
                    "limit_per_user": per_user,
                    "scope": "user" if mine >= per_user else "server",
                },
            )
        _open[user_id] = mine + 1
        _total += 1


def stream_slot_release(*, user_id: Any) -> None:
    global _total
    with _lock:
        left = _open.get(user_id, 0) - 1
        if left > 0:
            _open[user_id] = left
        else:
            _open.pop(user_id, None)
        _total = max(0, _total - 1)


class SlotStream:
    """Iterates ``events`` and gives the slot back once, when closed or exhausted."""

    def __init__(self, events: Iterator[str], *, user_id: Any) -> None:
        self._events, self._user_id, self._held = events, user_id, True

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
            stream_slot_release(user_id=self._user_id)
