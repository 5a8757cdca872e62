"""Renewals: the beat task and Stripe's invoices agree on the cycle (no double reset)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from credits.services import wallets_renew_due
from tests.billing.conftest import deliver, spend_unlocks, unlock_allowance, wallet_of
from tests.config.subprocess_settings import run_python
from tests.config.test_settings import production_env

pytestmark = pytest.mark.django_db


def test_beat_renewal_then_the_renewal_invoice_resets_quotas_once(catalog, endpoint, team, owner_client, fake_stripe):
    response = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"})
    paid = fake_stripe.pay_checkout(response.json()["id"])
    assert deliver(endpoint, fake_stripe.event("invoice.paid", paid["invoice"]["id"])).status_code == 200
    period_end = datetime.fromtimestamp(paid["subscription"]["items"]["data"][0]["current_period_end"], tz=UTC)
    assert wallet_of(team).cycle_end == period_end

    # The period ends; the beat task renews before Stripe's invoice arrives.
    assert wallets_renew_due(now=period_end + timedelta(seconds=1)) >= 1
    assert wallet_of(team).cycle_start == period_end
    spend_unlocks(team, 2, tag="after-beat")
    renewal = fake_stripe.renew(paid["subscription"]["id"])
    assert deliver(endpoint, fake_stripe.event("invoice.paid", renewal["id"])).status_code == 200
    # Same cycle start: the invoice does not reset the quotas a second time.
    assert wallet_of(team).cycle_start == period_end
    assert unlock_allowance(team).plan_used == 2


def test_annual_plans_reset_quotas_monthly_from_the_paid_period(catalog, endpoint, team, owner_client, fake_stripe):
    response = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "premium", "interval": "year"})
    paid = fake_stripe.pay_checkout(response.json()["id"])
    assert deliver(endpoint, fake_stripe.event("invoice.paid", paid["invoice"]["id"])).status_code == 200
    wallet = wallet_of(team)
    start = datetime.fromtimestamp(paid["subscription"]["items"]["data"][0]["current_period_start"], tz=UTC)
    assert wallet.plan.code == "premium" and wallet.cycle_anchor == start
    assert wallet.cycle_end < start + timedelta(days=32)  # a monthly quota cycle inside the year


def test_production_refuses_a_stripe_api_host():
    code = "import django; django.setup()"
    result = run_python(code, env=production_env(STRIPE_API_HOST="http://127.0.0.1:12111"))
    assert result.returncode != 0 and "STRIPE_API_HOST" in result.stderr
    assert run_python(code, env=production_env()).returncode == 0
