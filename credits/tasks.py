"""Periodic credits tasks (scheduled by migration 0003 with django-celery-beat)."""

from celery import shared_task

from credits.services import wallets_renew_due


@shared_task(name="credits.tasks.wallets_renew_due_cycles", acks_late=True)
def wallets_renew_due_cycles() -> int:
    """Renew every wallet whose billing cycle ended; safe to run twice (idempotent per cycle)."""
    return wallets_renew_due()
