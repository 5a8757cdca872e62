"""The seed data and the invariants the database itself keeps."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django_celery_beat.models import PeriodicTask

from credits.cycles import cycle_bounds
from credits.models import CreditTransaction, Plan, PricingRule, TopUpPackage, Wallet
from credits.seed import seed_if_empty
from credits.services import credits_spend, wallet_get_or_create
from tests.factories import account_of

pytestmark = pytest.mark.django_db


def test_plans_are_seeded_as_in_the_product_spec():
    plans = {p.code: p for p in Plan.objects.all()}
    assert set(plans) == {"free", "standard", "premium"}
    free, standard, premium = plans["free"], plans["standard"], plans["premium"]
    assert (free.monthly_price_cents, free.seats, free.quotas, free.topup_discount_percent) == (
        0,
        1,
        {"influencer_unlock": 5, "email_unlock": 0, "post_analytics": 0},
        0,
    )
    assert (standard.monthly_price_cents, standard.annual_price_cents, standard.seats) == (19900, 199000, 2)
    assert standard.quotas == {"influencer_unlock": 500, "email_unlock": 250, "post_analytics": 125}
    assert (premium.monthly_price_cents, premium.annual_price_cents, premium.seats) == (49900, 499000, 5)
    assert premium.quotas == {"influencer_unlock": 2000, "email_unlock": 800, "post_analytics": 300}
    assert premium.topup_discount_percent == 20


def test_packages_and_prices_are_seeded():
    packages = {p.code: (p.credits, p.price_cents) for p in TopUpPackage.objects.all()}
    assert packages == {"starter": (1000, 5000), "professional": (2500, 12500), "enterprise": (10000, 50000)}
    premium = Plan.objects.get(code="premium")
    assert TopUpPackage.objects.get(code="enterprise").price_cents_for(premium) == 40000
    rules = {r.action_type: (r.credits_per_unit, r.free_uses_per_month) for r in PricingRule.objects.all()}
    assert rules == {
        "influencer_unlock": (25, 0),
        "post_analytics": (5, 0),
        "discovery_pagination": (10, 5),
        "email_unlock": (1, 0),
        "campaign_analysis": (10, 0),
        "bulk_export": (50, 1),
        "advanced_search": (15, 10),
    }


def test_new_wallet_is_free_with_a_one_month_cycle(db):
    account_id = uuid.uuid4()
    wallet, created = wallet_get_or_create(account_id=account_id)
    assert created and wallet.plan.code == "free" and wallet.balance == 0
    assert wallet.cycle_start.month % 12 + 1 == wallet.cycle_end.month
    assert wallet_get_or_create(account_id=account_id) == (wallet, False)


def test_a_new_team_has_its_wallet(user):
    wallet, created = wallet_get_or_create(account_id=account_of(user))
    assert not created and wallet.plan.code == "free" and wallet.balance == 0


def test_database_refuses_a_negative_balance(user):
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=-1)


def test_ledger_rows_cannot_be_changed_or_deleted(user, fund):
    tx = fund(user, 100)
    with pytest.raises(TypeError):
        tx.save()
    with pytest.raises(TypeError):
        tx.delete()
    with pytest.raises(TypeError):
        CreditTransaction.objects.filter(pk=tx.pk).update(amount=1000)
    with pytest.raises(TypeError):
        CreditTransaction.objects.filter(pk=tx.pk).delete()
    tx.refresh_from_db()
    assert tx.amount == 100


def test_database_refuses_a_broken_balance_chain(user, fund):
    fund(user, 100)
    wallet = Wallet.objects.get(account_id=account_of(user))
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditTransaction.objects.create(
            wallet=wallet, kind="earn", amount=10, balance_before=100, balance_after=120, idempotency_key="x"
        )


def test_database_refuses_a_reused_key(user, fund):
    fund(user, 100, key="k1")
    credits_spend(account_id=account_of(user), action_type="email_unlock", reference="e:1", idempotency_key="s1")
    wallet = Wallet.objects.get(account_id=account_of(user))
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditTransaction.objects.create(
            wallet=wallet, kind="earn", amount=1, balance_before=99, balance_after=100, idempotency_key="k1"
        )


@pytest.mark.parametrize(
    ("anchor", "now", "start", "end"),
    [
        (datetime(2026, 1, 31, 10, tzinfo=UTC), datetime(2026, 2, 15, tzinfo=UTC),
         datetime(2026, 1, 31, 10, tzinfo=UTC), datetime(2026, 2, 28, 10, tzinfo=UTC)),
        (datetime(2026, 1, 31, 10, tzinfo=UTC), datetime(2026, 3, 31, 9, tzinfo=UTC),
         datetime(2026, 2, 28, 10, tzinfo=UTC), datetime(2026, 3, 31, 10, tzinfo=UTC)),
        (datetime(2026, 1, 31, 10, tzinfo=UTC), datetime(2026, 3, 31, 10, tzinfo=UTC),
         datetime(2026, 3, 31, 10, tzinfo=UTC), datetime(2026, 4, 30, 10, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), datetime(2027, 1, 20, tzinfo=UTC),
         datetime(2027, 1, 15, tzinfo=UTC), datetime(2027, 2, 15, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_cycles_count_months_from_the_anchor_without_drift(anchor, now, start, end):
    assert cycle_bounds(anchor=anchor, now=now) == (start, end)


def test_seed_comes_back_after_a_flush_but_never_overwrites_edits():
    PricingRule.objects.filter(action_type="email_unlock").update(credits_per_unit=3)
    assert seed_if_empty() is False
    assert PricingRule.objects.get(action_type="email_unlock").credits_per_unit == 3
    PricingRule.objects.all().delete()
    TopUpPackage.objects.all().delete()
    Plan.objects.all().delete()
    PeriodicTask.objects.filter(task="credits.tasks.wallets_renew_due_cycles").delete()
    assert seed_if_empty() is True
    assert Plan.objects.count() == 3 and PricingRule.objects.count() == 7 and TopUpPackage.objects.count() == 3
    assert PeriodicTask.objects.filter(task="credits.tasks.wallets_renew_due_cycles").exists()
