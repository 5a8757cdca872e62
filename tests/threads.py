"""Racing threads for the concurrency tests (PostgreSQL: row locks, concurrent transactions)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


def run_together(target: Callable[[], object], count: int, *, timeout: float = 60) -> list[BaseException]:
    """Run ``target`` in ``count`` threads released at once; the exceptions they raised (none: []).

    Each thread closes its database connections when it ends, so none is left to the test
    database's teardown.
    """
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout)
            target()
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return errors
