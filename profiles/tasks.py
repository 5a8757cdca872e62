"""Thin tasks of the profiles app."""

from celery import shared_task

from profiles import exports


@shared_task(acks_late=True)
def export_build(export_id: str) -> None:
    exports.export_build(export_id=export_id)
