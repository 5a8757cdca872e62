"""Credits services: spend order, refusals, idempotency, refunds, grants, adjustments, cycles."""

import itertools
from datetime import timedelta

import pytest
from django.core.cache import cache

from config.errors import NotFound
from credits.errors import (
    AlreadyRefunded,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidAmount,
    UnknownAction,
)
from credits.models import CreditTransaction, PricingRule, QuotaUsage, SpendRequest, Wallet
from credits.selectors import balance_cache_key, credits_quote, plan_for_account, wallet_balance_cached
from credits.services import (
    credits_grant,
    credits_refund,
    credits_spend,
    cycle_renew,
    wallet_adjust,
    wallet_get_or_create,
    wallet_set_plan,
)
from tests.factories import account_of

pytestmark = pytest.mark.django_db


def spend(user, action="influencer_unlock", qty=1, key="k", ref="profile:1", **kw):
    return credits_spend(
        account_id=account_of(user), action_type=action, quantity=qty, reference=ref, idempotency_key=key, **kw
    )


def test_free_plan_unlocks_use_the_quota_first_then_credits(user, fund):
    fund(user, 100)
    outcomes = [spend(user, key=f"u{i}", ref=f"profile:{i}") for i in range(7)]
    assert [o.buckets for o in outcomes] == [["plan_quota"]] * 5 + [["credits"]] * 2
    assert [o.charged for o in outcomes] == [0] * 5 + [25, 25]
    assert outcomes[-1].balance_after == 50
    usage = QuotaUsage.objects.get(wallet__account_id=account_of(user), action_type="influencer_unlock")
    assert (usage.free_used, usage.plan_used) == (0, 5)


def test_free_monthly_uses_come_before_plan_quota_and_split_per_unit(user, fund):
    fund(user, 1000)
    outcome = spend(user, action="advanced_search", qty=12)
    assert outcome.buckets == ["free"] * 10 + ["credits"] * 2
    assert outcome.charged == 30
    wallet_set_plan(account_id=account_of(user), plan_code="standard")
    outcome = spend(user, action="email_unlock", qty=3, key="e")
    assert outcome.buckets == ["plan_quota"] * 3 and outcome.charged == 0


def test_plan_is_read_through_the_selector(user):
    assert plan_for_account(account_id=account_of(user)).code == "free"
    wallet_set_plan(account_id=account_of(user), plan_code="premium")
    assert plan_for_account(account_id=account_of(user)).code == "premium"


def test_insufficient_credits_is_a_402_with_details_and_no_movement(user, fund):
    fund(user, 10)
    with pytest.raises(InsufficientCredits) as err:
        spend(user, action="bulk_export", qty=2)  # 1 free, 1 x 50 credits
    assert err.value.status_code == 402
    assert err.value.details == {
        "action_type": "bulk_export",
        "quantity": 2,
        "price": 50,
        "balance": 10,
        "missing": 40,
    }
    wallet = Wallet.objects.get(account_id=account_of(user))
    assert wallet.balance == 10
    assert not QuotaUsage.objects.filter(wallet=wallet).exists()
    assert wallet.transactions.count() == 1


def test_refused_key_replays_the_refusal_even_after_a_top_up(user, fund):
    for i in range(5):
        spend(user, key=f"q{i}", ref=f"profile:{i}")
    with pytest.raises(InsufficientCredits):
        spend(user, key="late", ref="profile:x")
    fund(user, 100, key="topup")
    with pytest.raises(InsufficientCredits) as err:
        spend(user, key="late", ref="profile:x")
    assert err.value.details["replayed"] is True and err.value.details["missing"] == 25
    assert SpendRequest.objects.get(idempotency_key="late").outcome == "refused"
    assert spend(user, key="late-2", ref="profile:x").charged == 25


def test_same_key_returns_the_first_outcome_and_charges_once(user, fund):
    fund(user, 200)
    for i in range(5):
        spend(user, key=f"q{i}", ref=f"profile:{i}")
    first = spend(user, key="again", ref="profile:9")
    second = spend(user, key="again", ref="profile:9")
    assert first.replayed is False and second.replayed is True
    assert (second.transaction_id, second.charged, second.buckets) == (first.transaction_id, 25, ["credits"])
    assert Wallet.objects.get(account_id=account_of(user)).balance == 175
    with pytest.raises(IdempotencyConflict):
        spend(user, key="again", ref="profile:other")
    with pytest.raises(IdempotencyConflict):
        spend(user, key="seed-grant")


def test_unknown_and_inactive_actions_are_refused(user, fund):
    fund(user, 100)
    with pytest.raises(UnknownAction):
        spend(user, action="teleport")
    PricingRule.objects.filter(action_type="campaign_analysis").update(active=False)
    with pytest.raises(UnknownAction) as err:
        spend(user, action="campaign_analysis")
    assert err.value.status_code == 404
    with pytest.raises(InvalidAmount):
        spend(user, qty=0)


def test_refund_restores_credits_and_quota_once(user, fund):
    fund(user, 100)
    spend(user, action="bulk_export", qty=2, key="exp")  # free + 50 credits
    assert Wallet.objects.get(account_id=account_of(user)).balance == 50
    refund = credits_refund(
        account_id=account_of(user), spend_idempotency_key="exp", reason="export failed", idempotency_key="r1"
    )
    assert (refund.kind, refund.amount, refund.buckets) == ("refund", 50, ["free", "credits"])
    wallet = Wallet.objects.get(account_id=account_of(user))
    assert wallet.balance == 100 and wallet.lifetime_spent == 0
    assert QuotaUsage.objects.get(wallet=wallet, action_type="bulk_export").free_used == 0
    assert (
        credits_refund(account_id=account_of(user), spend_idempotency_key="exp", reason="again", idempotency_key="r1")
        == refund
    )
    with pytest.raises(AlreadyRefunded):
        credits_refund(
            account_id=account_of(user), transaction_id=refund.refund_of_id, reason="again", idempotency_key="r2"
        )
    with pytest.raises(NotFound):
        credits_refund(account_id=account_of(user), spend_idempotency_key="nope", reason="x", idempotency_key="r3")


def test_refund_of_a_previous_cycle_gives_back_only_credits(user, fund):
    fund(user, 100)
    spend(user, action="bulk_export", qty=2, key="exp")
    wallet = Wallet.objects.get(account_id=account_of(user))
    cycle_renew(wallet=wallet, now=wallet.cycle_end + timedelta(seconds=1))
    refund = credits_refund(
        account_id=account_of(user), spend_idempotency_key="exp", reason="late", idempotency_key="r1"
    )
    assert refund.buckets == ["credits"] and refund.amount == 50
    assert not QuotaUsage.objects.filter(wallet=wallet, cycle_start=wallet.cycle_start).exists()


def test_grant_is_idempotent_and_positive(user):
    tx = credits_grant(
        account_id=account_of(user), amount=1000, reason="top-up starter", idempotency_key="stripe:evt_1"
    )
    again = credits_grant(
        account_id=account_of(user), amount=1000, reason="top-up starter", idempotency_key="stripe:evt_1"
    )
    assert again.pk == tx.pk
    wallet = Wallet.objects.get(account_id=account_of(user))
    assert (wallet.balance, wallet.lifetime_earned) == (1000, 1000)
    with pytest.raises(InvalidAmount):
        credits_grant(account_id=account_of(user), amount=0, reason="x", idempotency_key="z")
    with pytest.raises(IdempotencyConflict):
        credits_grant(account_id=account_of(user), amount=5, reason="x", idempotency_key="stripe:evt_1")


def test_adjust_needs_a_reason_and_never_goes_below_zero(user, staff_user, fund):
    fund(user, 30)
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    with pytest.raises(InvalidAmount):
        wallet_adjust(wallet=wallet, amount=-5, reason=" ", actor=staff_user)
    with pytest.raises(InvalidAmount) as err:
        wallet_adjust(wallet=wallet, amount=-31, reason="too much", actor=staff_user)
    assert err.value.code == "balance_below_zero"
    tx = wallet_adjust(wallet=wallet, amount=-30, reason="chargeback", actor=staff_user)
    assert (tx.kind, tx.balance_after, tx.actor, tx.reason) == ("adjustment", 0, staff_user, "chargeback")
    assert wallet.balance == 0


def test_cycle_renew_restarts_quotas_once_per_cycle(user, fund):
    for i in range(5):
        spend(user, key=f"q{i}", ref=f"profile:{i}")
    assert not credits_quote(account_id=account_of(user), action_type="influencer_unlock").allowed
    wallet = Wallet.objects.get(account_id=account_of(user))
    old_end = wallet.cycle_end
    later = old_end + timedelta(hours=1)
    assert cycle_renew(wallet=wallet, now=later) is True
    assert cycle_renew(wallet=wallet, now=later) is False
    wallet.refresh_from_db()
    assert wallet.cycle_start == old_end and wallet.cycle_end > later
    assert spend(user, key="new-cycle", ref="profile:1", now=later).buckets == ["plan_quota"]


def test_a_spend_after_the_cycle_end_renews_the_cycle_itself(user):
    for i in range(5):
        spend(user, key=f"q{i}", ref=f"profile:{i}")
    wallet = Wallet.objects.get(account_id=account_of(user))
    outcome = spend(user, key="late", ref="profile:9", now=wallet.cycle_end + timedelta(days=1))
    assert outcome.buckets == ["plan_quota"]


def test_every_movement_invalidates_the_cached_balance(user, fund, django_capture_on_commit_callbacks):
    fund(user, 100)
    assert wallet_balance_cached(account_id=account_of(user))["cached"] is False
    assert wallet_balance_cached(account_id=account_of(user)) == {
        **cache.get(balance_cache_key(account_of(user))),
        "cached": True,
    }
    with django_capture_on_commit_callbacks(execute=True):
        spend(user, action="email_unlock", key="e1")
    assert cache.get(balance_cache_key(account_of(user))) is None
    assert wallet_balance_cached(account_id=account_of(user))["balance"] == 99
    with django_capture_on_commit_callbacks(execute=True):
        credits_refund(account_id=account_of(user), spend_idempotency_key="e1", reason="x", idempotency_key="r")
    after_refund = wallet_balance_cached(account_id=account_of(user))
    assert (after_refund["balance"], after_refund["cached"]) == (100, False)


def test_ledger_explains_the_balance(user, staff_user, fund):
    fund(user, 500)
    for i in range(8):
        spend(user, key=f"s{i}", ref=f"profile:{i}")
    credits_refund(account_id=account_of(user), spend_idempotency_key="s7", reason="failed", idempotency_key="r")
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    wallet_adjust(wallet=wallet, amount=-20, reason="fix", actor=staff_user)
    rows = list(CreditTransaction.objects.filter(wallet=wallet).order_by("id"))
    assert sum(r.amount for r in rows) == wallet.balance == 500 - 3 * 25 + 25 - 20
    assert all(a.balance_after == b.balance_before for a, b in itertools.pairwise(rows))
    assert wallet.balance == wallet.lifetime_earned - wallet.lifetime_spent


def test_free_uses_then_plan_quota_then_credits_in_one_spend(user, fund):
    PricingRule.objects.filter(action_type="influencer_unlock").update(free_uses_per_month=2)
    fund(user, 100)
    outcome = spend(user, qty=9, key="big")
    assert outcome.buckets == ["free"] * 2 + ["plan_quota"] * 5 + ["credits"] * 2
    assert outcome.charged == 50
    credits_refund(account_id=account_of(user), spend_idempotency_key="big", reason="failed", idempotency_key="r")
    usage = QuotaUsage.objects.get(wallet__account_id=account_of(user), action_type="influencer_unlock")
    assert (usage.free_used, usage.plan_used) == (0, 0)
    assert Wallet.objects.get(account_id=account_of(user)).balance == 100
