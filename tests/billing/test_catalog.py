"""billing_sync_catalog: Products and Prices by lookup key, idempotent, synced into dj-stripe."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from djstripe.models import Price, Product

from billing.catalog import catalog_sync
from credits.models import Plan, TopUpPackage

pytestmark = pytest.mark.django_db

EXPECTED = {
    "plan:standard:month": (19900, "month"),
    "plan:standard:year": (199000, "year"),
    "plan:premium:month": (49900, "month"),
    "plan:premium:year": (499000, "year"),
    "topup:starter": (5000, None),
    "topup:starter:premium": (4000, None),
    "topup:professional": (12500, None),
    "topup:professional:premium": (10000, None),
    "topup:enterprise": (50000, None),
    "topup:enterprise:premium": (40000, None),
}


def _active_prices(fake):
    return {
        o["lookup_key"]: o for o in fake.objects.values() if o["object"] == "price" and o["active"] and o["lookup_key"]
    }


def test_the_command_creates_the_catalogue_then_nothing_more(fake_stripe):
    out = StringIO()
    call_command("billing_sync_catalog", stdout=out)
    assert "products created: 5, prices created: 10" in out.getvalue()
    prices = _active_prices(fake_stripe)
    assert {k: (p["unit_amount"], (p["recurring"] or {}).get("interval")) for k, p in prices.items()} == EXPECTED
    assert {p.lookup_key for p in Price.objects.all()} == set(EXPECTED)
    assert Product.objects.count() == 5

    again = catalog_sync()
    assert (again.products_created, again.prices_created, again.prices_replaced, again.unchanged) == (0, 0, 0, 10)
    assert sum(1 for o in fake_stripe.objects.values() if o["object"] == "price") == 10
    assert sum(1 for o in fake_stripe.objects.values() if o["object"] == "product") == 5


def test_a_changed_price_replaces_the_old_one_under_the_same_lookup_key(fake_stripe):
    catalog_sync()
    old_id = _active_prices(fake_stripe)["topup:starter"]["id"]
    TopUpPackage.objects.filter(code="starter").update(price_cents=6000)
    result = catalog_sync()
    assert (result.prices_created, result.prices_replaced) == (0, 2)  # starter and its Premium price
    prices = _active_prices(fake_stripe)
    assert prices["topup:starter"]["unit_amount"] == 6000 and prices["topup:starter"]["id"] != old_id
    assert prices["topup:starter:premium"]["unit_amount"] == 4800
    assert fake_stripe.get(old_id)["active"] is False
    assert Price.objects.get(lookup_key="topup:starter").unit_amount == 6000


def test_annual_prices_are_ten_months(db):
    for plan in Plan.objects.exclude(code="free"):
        assert plan.annual_price_cents == plan.monthly_price_cents * 10
