"""Periodic discovery task: one tick of the related-creator queue (scheduled by migration 0002)."""

from __future__ import annotations

from config.tasks import app_task
from discovery.services.queue import discovery_tick


@app_task(queue="default", name="discovery.tasks.discovery_tick", ignore_result=True)
def discovery_queue_tick() -> str:
    """Take in new related profiles, settle ended jobs and start jobs within the limits.

    Safe to run twice or in parallel: every step runs under the queue's row lock.
    """
    return str(discovery_tick())
