"""Periodic credits tasks (scheduled by migration 0003 with django-celery-beat)."""

from config.tasks import app_task
from credits.services import wallets_renew_due


@app_task(queue="default", name="credits.tasks.wallets_renew_due_cycles")
def wallets_renew_due_cycles() -> int:
    """Renew every wallet whose billing cycle ended; safe to run twice (idempotent per cycle)."""
    return wallets_renew_due()
