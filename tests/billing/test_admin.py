"""Billing admin: revenue figures, resync from Stripe, processing a failed delivery again."""

from __future__ import annotations

import pytest
from django.urls import reverse
from djstripe.models import WebhookEventTrigger

from billing.models import BillingAccount
from billing.selectors import revenue_summary
from tests.billing.conftest import deliver, wallet_of
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(StaffUserFactory())
    return client


def _subscribe(owner_client, fake, endpoint, plan, interval):
    response = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": plan, "interval": interval})
    paid = fake.pay_checkout(response.json()["id"])
    assert deliver(endpoint, fake.event("invoice.paid", paid["invoice"]["id"])).status_code == 200
    return paid


def test_revenue_view_shows_mrr_statuses_and_topups(staff, catalog, endpoint, team, owner_client, fake_stripe):
    _subscribe(owner_client, fake_stripe, endpoint, "premium", "year")
    topup = owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"}).json()
    paid = fake_stripe.pay_checkout(topup["id"])
    deliver(endpoint, fake_stripe.event("checkout.session.completed", paid["session"]["id"]))
    summary = revenue_summary()
    assert summary["mrr_cents_by_plan"] == {"premium": 499000 // 12}
    assert summary["subscriptions_by_status"] == {"active": 1}
    assert [(r["purchases"], r["revenue_cents"]) for r in summary["topups_by_month"]] == [(1, 4000)]
    page = staff.get(reverse("admin:billing_revenue"))
    assert page.status_code == 200 and b"41583" in page.content and b"4000" in page.content
    assert staff.get(reverse("admin:billing_billingaccount_changelist")).status_code == 200


def test_resync_action_reads_stripe_again(staff, catalog, endpoint, team, owner_client, fake_stripe):
    paid = _subscribe(owner_client, fake_stripe, endpoint, "standard", "month")
    fake_stripe.get(paid["subscription"]["id"])["status"] = "unpaid"  # an event we never received
    account = BillingAccount.objects.get(team=team)
    response = staff.post(
        reverse("admin:billing_billingaccount_changelist"),
        {"action": "resync_from_stripe", "_selected_action": [account.pk]},
    )
    assert response.status_code == 302
    assert BillingAccount.objects.get(team=team).status == "unpaid" and wallet_of(team).plan.code == "free"


def test_a_failed_delivery_is_processed_again_from_the_admin(staff, catalog, endpoint, team, owner_client, fake_stripe):
    topup = owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"}).json()
    paid = fake_stripe.pay_checkout(topup["id"])
    event = fake_stripe.event("checkout.session.completed", paid["session"]["id"])
    saved = fake_stripe.objects.pop(paid["session"]["id"])
    assert deliver(endpoint, event).status_code == 500
    fake_stripe.objects[saved["id"]] = saved
    trigger = WebhookEventTrigger.objects.get(valid=True, processed=False)
    assert trigger.exception
    response = staff.post(
        reverse("admin:djstripe_webhookeventtrigger_changelist"),
        {"action": "process_again", "_selected_action": [trigger.pk]},
    )
    assert response.status_code == 302
    assert WebhookEventTrigger.objects.get(pk=trigger.pk).processed
    assert wallet_of(team).balance == 1000
