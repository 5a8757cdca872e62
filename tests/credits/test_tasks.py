"""The monthly cycle: the beat schedule and the renewal task."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from credits.models import QuotaUsage, Wallet
from credits.selectors import credits_quote
from credits.services import credits_spend, wallet_get_or_create
from credits.tasks import wallets_renew_due_cycles
from tests.factories import UserFactory, account_of

pytestmark = pytest.mark.django_db


def test_the_renewal_task_is_scheduled_hourly():
    task = PeriodicTask.objects.get(task="credits.tasks.wallets_renew_due_cycles")
    assert task.enabled and task.crontab.hour == "*" and task.crontab.minute == "7"


def test_renew_task_restarts_due_cycles_once():
    due_user, current_user = UserFactory(), UserFactory()
    due, _ = wallet_get_or_create(account_id=account_of(due_user))
    current, _ = wallet_get_or_create(account_id=account_of(current_user))
    for i in range(5):
        credits_spend(
            account_id=account_of(due_user), action_type="influencer_unlock", reference=f"p{i}", idempotency_key=f"k{i}"
        )
    assert not credits_quote(account_id=account_of(due_user), action_type="influencer_unlock").allowed
    # Move the due wallet's cycle one month back, as if it was opened a month ago.
    month_ago = timezone.now() - timedelta(days=31)
    old_start = due.cycle_start
    Wallet.objects.filter(pk=due.pk).update(
        cycle_anchor=month_ago, cycle_start=month_ago, cycle_end=timezone.now() - timedelta(hours=1)
    )
    QuotaUsage.objects.filter(wallet=due, cycle_start=old_start).update(cycle_start=month_ago)

    assert wallets_renew_due_cycles() == 1
    assert wallets_renew_due_cycles() == 0
    due.refresh_from_db()
    assert due.cycle_start <= timezone.now() < due.cycle_end
    quote = credits_quote(account_id=account_of(due_user), action_type="influencer_unlock")
    assert quote.allowed and quote.buckets == ["plan_quota"]
    current_before = (current.cycle_start, current.cycle_end)
    current.refresh_from_db()
    assert (current.cycle_start, current.cycle_end) == current_before
