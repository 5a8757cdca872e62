"""Thin tasks of the profiles app (queue ``default``)."""

from datetime import datetime

from config.tasks import app_task
from profiles.services import exports, unlocks


@app_task(queue="default")
def export_build(export_id: str) -> None:
    exports.export_build(export_id=export_id)


@app_task(queue="default")
def unlocks_refund_task(username: str, since: str, reason: str) -> int:
    """Refund the unlocks of ``username`` paid since ``since`` (ISO time); queued by a failed job."""
    return len(unlocks.unlocks_refund(username=username, since=datetime.fromisoformat(since), reason=reason))
