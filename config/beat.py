"""Periodic tasks scheduled by data migrations (django-celery-beat), in one shape.

A migration calls ``periodic_task_schedule`` / ``periodic_task_unschedule`` from its
``RunPython`` functions with its historical ``apps`` and ``schema_editor`` (or takes both
functions from ``periodic_task_functions``): the rows are written
to the database being migrated, every periodic task is named, enabled and routed to an
explicit queue, and running the migration twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def periodic_task_schedule(
    apps: Any,
    schema_editor: Any,
    *,
    name: str,
    task: str,
    every_seconds: int | None = None,
    crontab: dict[str, str] | None = None,
    queue: str = "default",
) -> None:
    """Create or update the periodic task ``name`` running ``task`` every ``every_seconds`` or on
    ``crontab`` (minute, hour, ... in UTC)."""
    if (every_seconds is None) == (crontab is None):
        raise ValueError("give every_seconds or crontab, not both")
    db = schema_editor.connection.alias
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule: dict[str, Any] = {"interval": None, "crontab": None}
    if every_seconds is not None:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        schedule["interval"], _ = IntervalSchedule.objects.using(db).get_or_create(
            every=every_seconds, period="seconds"
        )
    else:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
        schedule["crontab"], _ = CrontabSchedule.objects.using(db).get_or_create(
            **{**fields, **crontab}, timezone="UTC"
        )
    PeriodicTask.objects.using(db).update_or_create(
        name=name, defaults={"task": task, "enabled": True, "queue": queue, **schedule}
    )


def periodic_task_unschedule(apps: Any, schema_editor: Any, *, name: str) -> None:
    db = schema_editor.connection.alias
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(db).filter(name=name).delete()


def periodic_task_functions(
    *, name: str, task: str, every_seconds: int | None = None, crontab: dict[str, str] | None = None
) -> tuple[Callable[[Any, Any], None], Callable[[Any, Any], None]]:
    """The ``(schedule, unschedule)`` pair of a migration's ``RunPython`` for one periodic task."""

    def schedule(apps: Any, schema_editor: Any) -> None:
        periodic_task_schedule(apps, schema_editor, name=name, task=task, every_seconds=every_seconds, crontab=crontab)

    def unschedule(apps: Any, schema_editor: Any) -> None:
        periodic_task_unschedule(apps, schema_editor, name=name)

    return schedule, unschedule
