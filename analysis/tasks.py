"""Thin Celery tasks of the creator pipeline; each calls one service of ``analysis.services``.

Queues (``CELERY_TASK_ROUTES``): ``scrape_*`` on scrape, ``store_*`` on cdn, ``analyse_*`` on
ai. Only provider errors marked retryable (timeouts, 429, 5xx, open circuit) are retried,
with jittered exponential backoff; an unexpected error fails the job (so that the username
is not blocked by a dead job) and is re-raised for the logs.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections

from analysis import services
from analysis.engines.registry import models_allowed
from profiles.providers.base import ProviderError

logger = logging.getLogger(__name__)
_local = threading.local()


def dispatch(task: Any, job_id: str) -> None:
    """Queue ``task`` for ``job_id``.

    With a broker this is ``delay``. In the embedded default (eager tasks, no broker) the
    pipeline runs in one background thread so that the request that started it returns at
    once and its progress can be followed, like with real workers.
    """
    if not (settings.CELERY_TASK_ALWAYS_EAGER and settings.PIPELINE_EAGER_THREAD) or getattr(_local, "inside", False):
        task.delay(job_id)
        return

    def run() -> None:
        _local.inside = True
        try:
            task.delay(job_id)
        except Exception:
            logger.exception("pipeline thread for job %s ended with an error", job_id)
        finally:
            close_old_connections()

    threading.Thread(target=run, name=f"pipeline-{job_id}", daemon=True).start()


@contextmanager
def inline_pipeline() -> Iterator[None]:
    """Run eager pipelines in the calling thread (management commands, which exit after).

    Inside it, ``AI_ENGINE=auto`` may load the AI models (the command's process is not the
    web process): ``make run``'s ``load_sample_creators`` analyses with the embeddings engine.
    """
    previous = getattr(_local, "inside", False)
    _local.inside = True
    try:
        with models_allowed():  # a command's own process, not the web process: auto may load models
            yield
    finally:
        _local.inside = previous


def _backoff(retries: int) -> float:
    ceiling = min(settings.SCRAPER_BACKOFF_MAX, settings.SCRAPER_BACKOFF_BASE * 2**retries)
    return random.uniform(ceiling / 2, ceiling)


def _fail(job_id: str, stage: str, exc: Exception) -> None:
    services.job_fail(job_id=job_id, stage=stage, category="internal", detail=f"{type(exc).__name__}: {exc}")


@shared_task(bind=True, max_retries=3, acks_late=True)
def scrape_profile(self, job_id: str) -> None:
    try:
        services.job_run_scrape(job_id=job_id)
    except ProviderError as exc:  # only retryable ones reach here
        if self.request.retries >= self.max_retries:
            services.job_fail(job_id=job_id, stage="scrape", category=exc.category, detail=str(exc))
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    except Exception as exc:
        _fail(job_id, "scrape", exc)
        raise


@shared_task(acks_late=True)
def store_media(job_id: str) -> None:
    try:
        services.job_run_media(job_id=job_id)
    except Exception as exc:
        _fail(job_id, "media", exc)
        raise


@shared_task(acks_late=True)
def analyse_posts(job_id: str) -> None:
    """The AI step of ``job_id`` and of other jobs waiting for theirs, in one engine batch.

    A no-op when another job's batch already claimed this job (``services.job_run_ai``).
    """
    try:
        services.job_run_ai(job_id=job_id)
    except Exception as exc:
        _fail(job_id, "ai", exc)
        raise


@shared_task
def fail_stale_jobs() -> int:
    return services.jobs_fail_stale()
