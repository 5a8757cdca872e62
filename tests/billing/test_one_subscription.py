"""A team is billed for one subscription at most.

Two checkouts in a row (two tabs), one while the first subscription still awaits its payment,
and two started at the same moment from threads (PostgreSQL) must never leave the team able
to pay for two subscriptions.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from billing.catalog import catalog_sync
from billing.services import checkout_subscription_start, customer_ensure
from tests.billing.conftest import make_team
from tests.threads import run_together


def _sessions(fake, status=None):
    return [
        o
        for o in fake.objects.values()
        if o["object"] == "checkout.session" and o["mode"] == "subscription"
        if status is None or o["status"] == status
    ]


@pytest.mark.django_db
def test_a_second_checkout_expires_the_first_so_only_one_can_be_paid(catalog, team, owner_client, fake_stripe):
    first = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"})
    second = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "premium", "interval": "month"})
    assert first.status_code == second.status_code == 201

    assert fake_stripe.get(first.json()["id"])["status"] == "expired"
    assert [s["id"] for s in _sessions(fake_stripe, "open")] == [second.json()["id"]]
    with pytest.raises(ValueError, match="expired"):
        fake_stripe.pay_checkout(first.json()["id"])
    fake_stripe.pay_checkout(second.json()["id"])


@pytest.mark.django_db
def test_no_checkout_while_a_subscription_awaits_its_first_payment(catalog, team, owner_client, fake_stripe):
    customer_id = customer_ensure(team=team)
    fake_stripe.create("subscriptions", {}, customer=customer_id, status="incomplete")

    refused = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"})

    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["code"] == "subscription_exists"
    assert refused.json()["error"]["details"] == {"subscription_status": "incomplete"}
    assert not _sessions(fake_stripe)
    # Once that subscription has ended (incomplete_expired after 23 h), checkout works again.
    next(o for o in fake_stripe.objects.values() if o["object"] == "subscription")["status"] = "incomplete_expired"
    again = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"})
    assert again.status_code == 201


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL row locks and threads"
)
def test_checkouts_started_at_once_leave_one_open_session(fake_stripe):
    catalog_sync()
    team = make_team(name="Racing")
    customer_ensure(team=team)
    threads = 6

    errors = run_together(
        lambda: checkout_subscription_start(team=team, plan_code="standard", interval="month"), threads
    )

    assert errors == []
    assert len(_sessions(fake_stripe)) == threads
    assert len(_sessions(fake_stripe, "open")) == 1
