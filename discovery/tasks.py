"""Periodic discovery tasks: the related-creator queue's tick (migration 0002) and the
category and language counts' refresh (migration 0003)."""

from __future__ import annotations

from config.tasks import app_task
from discovery.selectors.overview import counts_refresh
from discovery.services.queue import discovery_tick


@app_task(queue="default", name="discovery.tasks.discovery_tick", ignore_result=True)
def discovery_queue_tick() -> str:
    """Take in new related profiles, settle ended jobs and start jobs within the limits.

    Safe to run twice or in parallel: every step runs under the queue's row lock.
    """
    return str(discovery_tick())


@app_task(queue="default", name="discovery.tasks.discovery_counts_refresh", ignore_result=True)
def discovery_counts_refresh() -> dict[str, int]:
    """Recompute the cached creators-per-category and per-language counts before they expire."""
    return counts_refresh()
