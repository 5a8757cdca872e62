"""Periodic discovery task: one tick of the related-creator queue (scheduled by migration 0002)."""

from __future__ import annotations

from celery import shared_task

from discovery.services.queue import discovery_tick


@shared_task(name="discovery.tasks.discovery_tick", queue="default", acks_late=True, ignore_result=True)
def discovery_queue_tick() -> str:
    """Take in new related profiles, settle ended jobs and start jobs within the limits.

    Safe to run twice or in parallel: every step runs under the queue's row lock.
    """
    return str(discovery_tick())
