"""The one retry policy of every Celery task: ``@app_task(queue=...)`` and ``TransientError``.

Every task of the project is declared with ``app_task``, which names its queue explicitly
(no routing by task-name patterns: a renamed task keeps its queue) and gives it the base
class ``PolicyTask``:

- only ``TransientError`` (and its subclasses: a provider's timeout, 429 or 5xx, an open
  circuit, an image host that is down) is retried, automatically, with exponential backoff
  and full jitter, at most ``TASK_MAX_RETRIES`` times; any other error fails the task at once;
- an error that carries ``retry_after`` (a provider's ``Retry-After``) delays the retry by at
  least that long (capped at ``TASK_RETRY_BACKOFF_MAX``);
- ``acks_late`` (with ``CELERY_TASK_REJECT_ON_WORKER_LOST``) and the time limits
  ``CELERY_TASK_TIME_LIMIT``/``CELERY_TASK_SOFT_TIME_LIMIT`` apply to every task.

Code that calls a paid or rate-limited service makes one attempt per task try: the retries
are the task's, visible in the worker's log and bounded here, never a loop with ``sleep``.

Services queue tasks by name with ``task_send``/``task_send_on_commit``: inside an app the
``tasks`` module sits above ``services`` (tasks call services), so services never import it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import transaction

from config.celery import QUEUES, app
from config.errors import TransientError


class PolicyTask(Task):
    """Base class of every task: the retry policy above."""

    abstract = True
    declared_queue: str = ""  # set by app_task
    autoretry_for = (TransientError,)
    retry_jitter = True
    acks_late = True
    reject_on_worker_lost = True

    # Read from the settings when the class is created (tasks import after Django's setup).
    max_retries = settings.TASK_MAX_RETRIES
    retry_backoff = settings.TASK_RETRY_BACKOFF
    retry_backoff_max = settings.TASK_RETRY_BACKOFF_MAX
    time_limit = settings.CELERY_TASK_TIME_LIMIT
    soft_time_limit = settings.CELERY_TASK_SOFT_TIME_LIMIT

    def retry(self, args=None, kwargs=None, exc=None, throw=True, eta=None, countdown=None, **options) -> Any:
        countdown = retry_countdown(exc, countdown, maximum=self.retry_backoff_max) if eta is None else countdown
        return super().retry(args=args, kwargs=kwargs, exc=exc, throw=throw, eta=eta, countdown=countdown, **options)


def retry_countdown(exc: BaseException | None, countdown: float | None, *, maximum: float) -> float | None:
    """The backoff's ``countdown``, raised to the error's ``retry_after`` (capped at ``maximum``)."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is None:
        return countdown
    return max(countdown or 0, min(float(retry_after), maximum))


def app_task(*, queue: str, **options: Any) -> Callable[[Callable[..., Any]], Task]:
    """Declare a Celery task on ``queue`` with the project's retry policy.

    ``options`` are Celery task options (``bind``, ``name``, ``time_limit``, ``max_retries``
    when a service bounds its own attempts, ...).
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}: one of {', '.join(QUEUES)}")
    # ``declared_queue``, not Celery's deprecated ``queue`` attribute: config.celery routes by it.
    return shared_task(base=options.pop("base", PolicyTask), declared_queue=queue, **options)


def task_get(name: str) -> Task:
    """The registered task ``name`` (task modules are imported on first use; KeyError if none)."""
    if name not in app.tasks:
        app.loader.import_default_modules()  # every installed app's ``tasks`` module
    return app.tasks[name]


def task_send(name: str, *args: Any, **kwargs: Any) -> None:
    """Queue the task ``name`` now (``delay``; run in-process when tasks are eager)."""
    task_get(name).delay(*args, **kwargs)


def task_send_on_commit(name: str, *args: Any, **kwargs: Any) -> None:
    """Queue the task ``name`` once the current transaction commits (at once outside one)."""
    task_get(name)  # an unknown name fails here, in the caller, not after the commit
    transaction.on_commit(lambda: task_send(name, *args, **kwargs))
