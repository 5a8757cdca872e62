"""The whole life of a team through the API and signed webhooks (PRODUCT.md prices and quotas)."""

from __future__ import annotations

import pytest
from django.core import mail

from billing.models import BillingAccount, PaidInvoice, StripeEventReaction, TopUpPurchase
from credits.models import CreditTransaction
from teams.models import Team
from tests.billing.conftest import deliver, spend_unlocks, unlock_allowance, wallet_of

pytestmark = pytest.mark.django_db


def _deliver_ok(endpoint, fake, event_type, object_id):
    response = deliver(endpoint, fake.event(event_type, object_id))
    assert response.status_code == 200, response.content[:500]
    return response


def test_a_team_from_free_to_standard_to_premium_to_free(catalog, endpoint, team, owner_client, fake_stripe):
    fake = fake_stripe
    assert wallet_of(team).plan.code == "free"

    # Checkout Standard monthly.
    response = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"})
    assert response.status_code == 201, response.json()
    session_id = response.json()["id"]
    assert response.json()["url"].startswith("https://checkout.stripe.test/")
    session = fake.get(session_id)
    assert session["client_reference_id"] == str(team.pk)
    assert session["metadata"] == {
        "team_id": str(team.pk), "kind": "subscription", "plan": "standard", "interval": "month"
    }  # fmt: skip
    assert fake.get(session["line_items"][0]["price"]["id"])["lookup_key"] == "plan:standard:month"

    paid = fake.pay_checkout(session_id)
    _deliver_ok(endpoint, fake, "checkout.session.completed", session_id)
    _deliver_ok(endpoint, fake, "invoice.paid", paid["invoice"]["id"])
    wallet = wallet_of(team)
    assert wallet.plan.code == "standard" and wallet.plan.seats == 2
    assert unlock_allowance(team).plan_quota == 500
    item = paid["subscription"]["items"]["data"][0]
    assert int(wallet.cycle_start.timestamp()) == item["current_period_start"]
    sub = owner_client.get("/api/v1/billing/subscription").json()
    assert sub["plan"] == "standard" and sub["interval"] == "month" and sub["status"] == "active"
    assert sub["cancel_at_period_end"] is False and sub["pending_change"] is None

    # Quotas are used, then the renewal invoice starts a new cycle with fresh quotas.
    spend_unlocks(team, 3, tag="cycle1")
    assert unlock_allowance(team).plan_used == 3
    renewal = fake.renew(paid["subscription"]["id"])
    _deliver_ok(endpoint, fake, "invoice.paid", renewal["id"])
    assert unlock_allowance(team).plan_used == 0
    assert int(wallet_of(team).cycle_start.timestamp()) == renewal["lines"]["data"][0]["period"]["start"]
    assert PaidInvoice.objects.filter(team=team).count() == 2

    # Upgrade to Premium now (prorated invoice), seats 5.
    response = owner_client.post("/api/v1/billing/subscription/change", {"plan": "premium", "interval": "month"})
    assert response.status_code == 200, response.json()
    assert response.json()["plan"] == "premium"
    assert fake.requests[-1].params["proration_behavior"] == "always_invoice"
    _deliver_ok(endpoint, fake, "customer.subscription.updated", paid["subscription"]["id"])
    assert wallet_of(team).plan.code == "premium" and wallet_of(team).plan.seats == 5

    # Top-up Starter at the Premium price, credited once.
    response = owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"})
    assert response.status_code == 201
    assert response.json()["amount_cents"] == 4000
    topup = fake.pay_checkout(response.json()["id"])
    assert topup["session"]["amount_total"] == 4000
    _deliver_ok(endpoint, fake, "checkout.session.completed", topup["session"]["id"])
    _deliver_ok(endpoint, fake, "checkout.session.async_payment_succeeded", topup["session"]["id"])
    assert wallet_of(team).balance == 1000
    assert CreditTransaction.objects.filter(wallet=wallet_of(team), kind="earn").count() == 1

    # Cancel at the period end; Stripe ends it; back to Free with the credits kept.
    response = owner_client.post("/api/v1/billing/subscription/cancel")
    assert response.status_code == 200 and response.json()["cancel_at_period_end"] is True
    assert wallet_of(team).plan.code == "premium"
    fake.end_subscription(paid["subscription"]["id"])
    _deliver_ok(endpoint, fake, "customer.subscription.deleted", paid["subscription"]["id"])
    wallet = wallet_of(team)
    assert wallet.plan.code == "free" and wallet.balance == 1000
    assert owner_client.get("/api/v1/billing/subscription").json()["status"] == "canceled"

    invoices = owner_client.get("/api/v1/billing/invoices").json()
    assert {i["number"] for i in invoices} >= {paid["invoice"]["number"], renewal["number"]}
    assert all(i["hosted_invoice_url"].startswith("https://") and i["invoice_pdf"] for i in invoices)


def test_the_same_event_twice_is_processed_once(catalog, endpoint, team, owner_client, fake_stripe):
    response = owner_client.post("/api/v1/billing/checkout/topup", {"package": "professional"})
    paid = fake_stripe.pay_checkout(response.json()["id"])
    event = fake_stripe.event("checkout.session.completed", paid["session"]["id"])
    assert deliver(endpoint, event).status_code == 200
    assert deliver(endpoint, event).status_code == 200
    assert wallet_of(team).balance == 2500
    assert StripeEventReaction.objects.filter(event_id=event["id"]).count() == 1
    purchase = TopUpPurchase.objects.get(checkout_session_id=paid["session"]["id"])
    assert purchase.status == "paid" and purchase.amount_cents == 12500


def test_downgrade_and_interval_change_wait_for_the_period_end(catalog, endpoint, team, owner_client, fake_stripe):
    owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "premium", "interval": "month"})
    session_id = fake_stripe.requests[-1].path and next(
        o["id"] for o in fake_stripe.objects.values() if o["object"] == "checkout.session"
    )
    paid = fake_stripe.pay_checkout(session_id)
    _deliver_ok(endpoint, fake_stripe, "invoice.paid", paid["invoice"]["id"])
    assert wallet_of(team).plan.code == "premium"

    response = owner_client.post("/api/v1/billing/subscription/change", {"plan": "standard", "interval": "year"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["plan"] == "premium"
    period_end = paid["subscription"]["items"]["data"][0]["current_period_end"]
    assert body["pending_change"]["plan"] == "standard" and body["pending_change"]["interval"] == "year"
    schedule = next(o for o in fake_stripe.objects.values() if o["object"] == "subscription_schedule")
    assert schedule["phases"][0]["end_date"] == period_end
    assert fake_stripe.get(schedule["phases"][1]["items"][0]["price"])["lookup_key"] == "plan:standard:year"
    assert wallet_of(team).plan.code == "premium"  # nothing changes before the period ends

    # Resume after a cancel keeps the plan; a second checkout is refused while subscribed.
    assert owner_client.post("/api/v1/billing/subscription/cancel").json()["cancel_at_period_end"] is True
    assert owner_client.post("/api/v1/billing/subscription/resume").json()["cancel_at_period_end"] is False
    again = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "subscription_exists"


def test_a_downgrade_to_fewer_seats_than_the_team_holds_is_refused(catalog, endpoint, team, owner_client, fake_stripe):
    from teams.models import Invitation, Membership
    from tests.factories import UserFactory

    owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "premium", "interval": "month"})
    session_id = next(o["id"] for o in fake_stripe.objects.values() if o["object"] == "checkout.session")
    paid = fake_stripe.pay_checkout(session_id)
    _deliver_ok(endpoint, fake_stripe, "invoice.paid", paid["invoice"]["id"])
    Membership.objects.create(team=team, user=UserFactory(), role=Membership.Role.MEMBER)
    invite = owner_client.post(f"/api/v1/teams/{team.pk}/invitations", {"email": "later@example.com"}, format="json")
    assert invite.status_code == 201, invite.content  # owner + member + 1 pending = 3 seats held

    refused = owner_client.post("/api/v1/billing/subscription/change", {"plan": "standard", "interval": "month"})

    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert error["code"] == "seats_exceed_plan"
    assert error["details"] == {
        "plan": "standard", "plan_seats": 2, "members": 2, "pending_invitations": 1, "to_free": 1,
    }  # fmt: skip
    assert not any(o["object"] == "subscription_schedule" for o in fake_stripe.objects.values())
    # Freeing the seat (revoking the invitation) lets the downgrade through, at the period end.
    Invitation.objects.filter(team=team).update(status=Invitation.Status.REVOKED)
    allowed = owner_client.post("/api/v1/billing/subscription/change", {"plan": "standard", "interval": "month"})
    assert allowed.status_code == 200 and allowed.json()["pending_change"]["plan"] == "standard"


def test_failed_renewal_keeps_the_plan_until_stripe_gives_up(catalog, endpoint, team, owner_client, fake_stripe):
    owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"})
    session_id = next(o["id"] for o in fake_stripe.objects.values() if o["object"] == "checkout.session")
    paid = fake_stripe.pay_checkout(session_id)
    _deliver_ok(endpoint, fake_stripe, "invoice.paid", paid["invoice"]["id"])
    mail.outbox.clear()

    failed = fake_stripe.renew(paid["subscription"]["id"], paid=False)
    _deliver_ok(endpoint, fake_stripe, "invoice.payment_failed", failed["id"])
    account = BillingAccount.objects.get(team=team)
    assert account.status == "past_due" and wallet_of(team).plan.code == "standard"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [team.billing_email]
    assert "failed" in mail.outbox[0].subject

    fake_stripe.get(paid["subscription"]["id"])["status"] = "unpaid"
    _deliver_ok(endpoint, fake_stripe, "customer.subscription.updated", paid["subscription"]["id"])
    assert wallet_of(team).plan.code == "free"
    assert BillingAccount.objects.get(team=team).status == "unpaid"


@pytest.mark.parametrize("refunded", [5000, 2500])
def test_a_refund_delivered_before_its_top_up_is_credited_is_not_lost(
    catalog, endpoint, team, owner_client, fake_stripe, refunded
):
    """charge.refunded handled first finds nothing credited; crediting then takes the refund back."""
    response = owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"})
    paid = fake_stripe.pay_checkout(response.json()["id"])
    fake_stripe.refund(paid["charge"]["id"], amount=refunded)
    _deliver_ok(endpoint, fake_stripe, "charge.refunded", paid["charge"]["id"])
    assert wallet_of(team).balance == 0

    _deliver_ok(endpoint, fake_stripe, "checkout.session.completed", paid["session"]["id"])

    kept = 1000 - 1000 * refunded // 5000
    assert wallet_of(team).balance == kept
    purchase = TopUpPurchase.objects.get(checkout_session_id=paid["session"]["id"])
    assert (purchase.status, purchase.refund_credits_claimed) == ("refunded", 1000 - kept)
    # The refund event again, and the rest of the charge refunded later: nothing twice.
    _deliver_ok(endpoint, fake_stripe, "charge.refunded", paid["charge"]["id"])
    assert wallet_of(team).balance == kept
    fake_stripe.refund(paid["charge"]["id"])
    _deliver_ok(endpoint, fake_stripe, "charge.refunded", paid["charge"]["id"])
    assert wallet_of(team).balance == 0


def test_refund_takes_back_what_is_left_and_names_the_refund(catalog, endpoint, team, owner_client, fake_stripe):
    response = owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"})
    assert response.json()["amount_cents"] == 5000
    paid = fake_stripe.pay_checkout(response.json()["id"])
    _deliver_ok(endpoint, fake_stripe, "checkout.session.completed", paid["session"]["id"])
    # A created team on Free has no Free quota (that comes with the personal team): 4 x 25 -> 900 left.
    spend_unlocks(team, 4, tag="before-refund")
    assert wallet_of(team).balance == 900

    fake_stripe.refund(paid["charge"]["id"], amount=2500)  # half: 500 credits
    _deliver_ok(endpoint, fake_stripe, "charge.refunded", paid["charge"]["id"])
    assert wallet_of(team).balance == 400
    fake_stripe.refund(paid["charge"]["id"])  # the rest: 500 more asked, 400 left to take
    event = fake_stripe.event("charge.refunded", paid["charge"]["id"])
    assert deliver(endpoint, event).status_code == 200
    assert deliver(endpoint, event).status_code == 200
    assert wallet_of(team).balance == 0
    rows = CreditTransaction.objects.filter(wallet=wallet_of(team), reference=f"stripe:charge:{paid['charge']['id']}")
    assert sorted(r.amount for r in rows) == [-500, -400]
    assert all("refund" in r.reason.lower() for r in rows)
    purchase = TopUpPurchase.objects.get(checkout_session_id=paid["session"]["id"])
    assert (purchase.status, purchase.refund_credits_claimed, purchase.refund_credits_taken) == ("refunded", 1000, 900)


def test_dispute_flags_the_team(catalog, endpoint, team, owner_client, fake_stripe):
    response = owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"})
    paid = fake_stripe.pay_checkout(response.json()["id"])
    dispute = fake_stripe.dispute(paid["charge"]["id"])
    _deliver_ok(endpoint, fake_stripe, "charge.dispute.created", dispute["id"])
    team = Team.objects.get(pk=team.pk)
    assert team.flagged_for_staff and dispute["id"] in team.flagged_reason
