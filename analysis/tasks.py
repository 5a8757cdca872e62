"""Thin Celery tasks of the creator pipeline; each calls one service of ``analysis.services``.

Queues: ``scrape_profile`` on scrape, ``store_media`` on cdn, ``analyse_posts`` on ai. The
project's one retry policy (``config.tasks``) retries transient provider errors (timeouts,
429, 5xx, open circuit; ``Retry-After`` honoured); when a step's task finally fails, for
whatever reason, ``JobStepTask.on_failure`` fails its job with the error's category (so that
the username is not blocked by a dead job) and the error is re-raised for the logs.
"""

from __future__ import annotations

import logging
from typing import Any

from analysis import services
from analysis.models import AnalysisJob
from config.tasks import PolicyTask, app_task
from profiles.providers.base import ProviderError

logger = logging.getLogger(__name__)


class JobStepTask(PolicyTask):
    """A pipeline step's task (first argument: the job id): its final failure fails the job."""

    abstract = True
    stage: str = ""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        job_id = kwargs.get("job_id") or (args[0] if args else None)
        category = (
            AnalysisJob.ErrorCategory.from_provider(exc.category)
            if isinstance(exc, ProviderError)
            else AnalysisJob.ErrorCategory.INTERNAL
        )
        detail = str(exc) if isinstance(exc, ProviderError) else f"{type(exc).__name__}: {exc}"
        services.job_fail(job_id=job_id, stage=self.stage, category=category, detail=detail)


@app_task(queue="scrape", base=JobStepTask, stage=AnalysisJob.Step.SCRAPE)
def scrape_profile(job_id: str) -> None:
    services.job_run_scrape(job_id=job_id)


@app_task(queue="cdn", base=JobStepTask, stage=AnalysisJob.Step.MEDIA)
def store_media(job_id: str) -> None:
    services.job_run_media(job_id=job_id)


@app_task(queue="ai", base=JobStepTask, stage=AnalysisJob.Step.AI)
def analyse_posts(job_id: str) -> None:
    """The AI step of ``job_id`` and of other jobs waiting for theirs, in one engine batch.

    A no-op when another job's batch already claimed this job (``services.job_run_ai``).
    """
    services.job_run_ai(job_id=job_id)


@app_task(queue="default")
def fail_stale_jobs() -> int:
    return services.jobs_fail_stale()
