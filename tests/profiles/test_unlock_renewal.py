"""An unlock buys 30 days: unlocking again after they lapsed is a new purchase, never a replay.

Neither the derived key (same reference in the same billing cycle) nor a client's
``Idempotency-Key`` header re-sent later may turn the second purchase into a free replay of
the first; a retry while the access runs stays free.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.core.cache import cache
from django.utils import timezone

from credits.models import CreditTransaction, QuotaUsage, Wallet
from credits.services import credits_grant, wallet_get_or_create
from profiles.models import TeamProfileAccess
from tests.factories import account_of, team_of

pytestmark = pytest.mark.django_db

UNLOCK = "/api/v1/search/creator/{}/unlock"


def _expire(user):
    TeamProfileAccess.objects.filter(team=team_of(user)).update(
        granted_at=timezone.now() - timedelta(days=30, hours=1), expires_at=timezone.now() - timedelta(hours=1)
    )
    cache.clear()


def _paying_wallet(user, credits=100):
    """The team's Free quota used up and ``credits`` in the wallet: every unlock pays 25 credits."""
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    QuotaUsage.objects.create(
        wallet=wallet, cycle_start=wallet.cycle_start, action_type="influencer_unlock", free_used=0, plan_used=5
    )
    credits_grant(account_id=account_of(user), amount=credits, reason="test", idempotency_key="renewal-grant")
    return wallet


def _spends(wallet):
    return CreditTransaction.objects.filter(wallet=wallet, kind="spend").count()


@pytest.mark.parametrize("header", [None, "client-key-1"])
def test_unlocking_again_after_the_access_lapsed_is_charged_in_the_same_cycle(api_client, analysed, header):
    wallet = _paying_wallet(api_client.user)
    headers = {"Idempotency-Key": header} if header else {}
    first = api_client.post(UNLOCK.format("humansofny"), headers=headers)
    assert first.status_code == 200 and first.json()["credits"]["charged"] == 25
    retry = api_client.post(UNLOCK.format("humansofny"), headers=headers)  # access running: free
    assert retry.status_code == 200 and retry.json()["credits"]["charged"] == 0
    _expire(api_client.user)

    second = api_client.post(UNLOCK.format("humansofny"), headers=headers)

    assert second.status_code == 200, second.content
    assert second.json()["credits"] == {
        "charged": 25, "buckets": ["credits"], "balance": 50, "replayed": False, "skipped": False,
    }  # fmt: skip
    wallet.refresh_from_db()
    assert wallet.balance == 50 and _spends(wallet) == 2
    access = TeamProfileAccess.objects.get(team=team_of(api_client.user))
    assert access.expires_at > timezone.now() + timedelta(days=29)
    # A retry of that second purchase (the same request again) is still charged once.
    again = api_client.post(UNLOCK.format("humansofny"), headers=headers)
    assert again.json()["credits"]["charged"] == 0
    wallet.refresh_from_db()
    assert wallet.balance == 50 and _spends(wallet) == 2


def test_a_client_key_re_sent_in_a_later_cycle_buys_again(api_client, analysed):
    wallet = _paying_wallet(api_client.user)
    first = api_client.post(UNLOCK.format("humansofny"), headers={"Idempotency-Key": "k1"})
    assert first.status_code == 200 and first.json()["credits"]["charged"] == 25
    _expire(api_client.user)
    anchor = wallet.cycle_anchor - relativedelta(months=2)  # the next request renews into a new cycle
    Wallet.objects.filter(pk=wallet.pk).update(
        cycle_anchor=anchor, cycle_start=anchor, cycle_end=anchor + relativedelta(months=1)
    )

    second = api_client.post(UNLOCK.format("humansofny"), headers={"Idempotency-Key": "k1"})

    assert second.status_code == 200, second.content
    assert second.json()["credits"]["replayed"] is False and second.json()["credits"]["charged"] == 25
    wallet.refresh_from_db()
    assert _spends(wallet) == 2
