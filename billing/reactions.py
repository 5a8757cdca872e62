"""What we do when Stripe tells us something (called by ``billing.receivers``).

Each reaction re-reads the current state from Stripe (with our key and pinned version)
instead of trusting the event's copy or the order events arrive in, and is idempotent by
its business key as well as by the event id: a top-up is credited once per Checkout Session
(``TopUpPurchase``, locked), a cycle starts once per invoice (``PaidInvoice``), a refund takes
back at most what it covers. An exception propagates so that the webhook answers 500 and
Stripe delivers the event again.
"""

from __future__ import annotations

import logging

import stripe
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.conf import stripe_call, stripe_id, stripe_ts
from billing.models import PaidInvoice, TopUpPurchase
from billing.selectors import PLAN_KEEPING_STATUSES, team_for_customer, team_wallet_kwargs
from billing.services import subscription_fetch, subscription_state_apply
from credits.models import TopUpPackage
from credits.services import credits_grant, credits_take_back, wallet_set_plan
from teams.models import Team
from teams.services import team_flag_for_staff

logger = logging.getLogger(__name__)

CYCLE_STARTING_REASONS = {"subscription_create", "subscription_cycle"}


def _team_or_none(customer_id: str, metadata: dict | None = None) -> Team | None:
    team = team_for_customer(customer_id=customer_id) if customer_id else None
    if team is None and metadata and metadata.get("team_id"):
        team = Team.objects.filter(pk=metadata["team_id"]).first()
    return team


def subscription_changed(*, subscription_id: str) -> tuple[str, Team | None]:
    """customer.subscription.created/updated/deleted: apply the subscription as it is now."""
    state = subscription_fetch(subscription_id=subscription_id)
    team = _team_or_none(state.customer_id)
    if team is None:
        return "unknown customer", None
    account = subscription_state_apply(team=team, state=state)
    return f"{account.status} on {account.plan_code}", team


def topup_fulfil(*, session_id: str) -> tuple[str, Team | None]:
    """checkout.session.completed / async_payment_succeeded: credit a paid top-up once."""
    session = stripe_call(stripe.checkout.Session.retrieve, session_id)
    metadata = dict(session.get("metadata") or {})
    team = _team_or_none(stripe_id(session.get("customer")), metadata)
    if session.get("mode") == "subscription":
        if team is not None and session.get("subscription"):
            return subscription_changed(subscription_id=stripe_id(session["subscription"]))
        return "subscription checkout without a team", team
    if metadata.get("kind") != "topup" or team is None:
        return "not a top-up", team
    if session.get("payment_status") != "paid":
        return f"awaiting payment ({session.get('payment_status')})", team
    # A refund may come before this event is handled (a retried reaction, events out of
    # order): its charge.refunded found nothing credited, so the credit takes it into account.
    charge = _latest_charge(stripe_id(session.get("payment_intent")))
    with transaction.atomic():
        purchase = TopUpPurchase.objects.select_for_update().filter(checkout_session_id=session_id).first()
        if purchase is None:
            package = TopUpPackage.objects.get(code=metadata["package"])
            TopUpPurchase.objects.get_or_create(
                checkout_session_id=session_id,
                defaults={
                    "team": team,
                    "package_code": package.code,
                    "credits": package.credits,
                    "amount_cents": session.get("amount_total") or 0,
                    "price_lookup_key": "",
                },
            )
            purchase = TopUpPurchase.objects.select_for_update().get(checkout_session_id=session_id)
        if purchase.status != TopUpPurchase.Status.PENDING:
            return "already credited", team
        tx = credits_grant(
            **team_wallet_kwargs(purchase.team),
            amount=purchase.credits,
            reason=f"Top-up {purchase.package_code} paid through Stripe Checkout",
            idempotency_key=f"stripe:checkout:{session_id}",
            reference=f"stripe:checkout:{session_id}",
        )
        purchase.status = TopUpPurchase.Status.PAID
        purchase.paid_at = timezone.now()
        purchase.payment_intent_id = stripe_id(session.get("payment_intent"))
        purchase.amount_cents = session.get("amount_total") or purchase.amount_cents
        purchase.credit_transaction_id = tx.pk
        purchase.save()
        if charge is not None and (charge.get("amount_refunded") or 0) > 0:
            taken = _take_back_refunded(purchase, charge)
            return f"credited {purchase.credits}, already refunded: took back {taken}", purchase.team
    return f"credited {purchase.credits}", purchase.team


def _latest_charge(payment_intent_id: str) -> dict | None:
    """The payment intent's latest charge as Stripe has it now (None without one)."""
    if not payment_intent_id:
        return None
    intent = stripe_call(stripe.PaymentIntent.retrieve, payment_intent_id, expand=["latest_charge"])
    charge = intent.get("latest_charge")
    if isinstance(charge, str):
        charge = stripe_call(stripe.Charge.retrieve, charge)
    return charge or None


def _take_back_refunded(purchase: TopUpPurchase, charge: dict) -> int | None:
    """Take back the refunded share of a credited top-up's credits (under the purchase's lock).

    Returns the credits taken (the wallet never goes below zero), or None when the refund
    claims nothing more than what was already claimed.
    """
    amount = charge.get("amount") or 0
    refunded = min(charge.get("amount_refunded") or 0, amount)
    claim = purchase.credits * refunded // amount if amount else 0
    delta = claim - purchase.refund_credits_claimed
    if delta <= 0:
        return None
    tx = credits_take_back(
        **team_wallet_kwargs(purchase.team),
        amount=delta,
        reason=f"Stripe refund of top-up {purchase.package_code} (charge {charge['id']})",
        idempotency_key=f"stripe:refund:{charge['id']}:{refunded}",
        reference=f"stripe:charge:{charge['id']}",
    )
    taken = -tx.amount if tx is not None else 0
    purchase.refund_credits_claimed = claim
    purchase.refund_credits_taken += taken
    purchase.status = TopUpPurchase.Status.REFUNDED
    purchase.save()
    return taken


def topup_expired(*, session_id: str) -> tuple[str, Team | None]:
    updated = TopUpPurchase.objects.filter(checkout_session_id=session_id, status=TopUpPurchase.Status.PENDING).update(
        status=TopUpPurchase.Status.EXPIRED, updated_at=timezone.now()
    )
    return f"expired {updated}", None


def _invoice_subscriptionstripe_id(invoice: dict) -> str:
    # From API version 2025-03-31 the subscription lives under ``parent``.
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return stripe_id(details.get("subscription")) or stripe_id(invoice.get("subscription"))


def _invoice_period(invoice: dict) -> tuple:
    lines = (invoice.get("lines") or {}).get("data") or []
    for line in lines:
        period = line.get("period") or {}
        if period.get("start") and period.get("end"):
            return stripe_ts(period["start"]), stripe_ts(period["end"])
    return stripe_ts(invoice.get("period_start")), stripe_ts(invoice.get("period_end"))


def invoice_paid(*, invoice_id: str) -> tuple[str, Team | None]:
    """invoice.paid: the subscription's state, and for a first or renewal invoice a new cycle."""
    invoice = stripe_call(stripe.Invoice.retrieve, invoice_id)
    subscription_id = _invoice_subscriptionstripe_id(invoice)
    if not subscription_id or invoice.get("status") != "paid":
        return "not a paid subscription invoice", None
    state = subscription_fetch(subscription_id=subscription_id)
    team = _team_or_none(stripe_id(invoice.get("customer")))
    if team is None:
        return "unknown customer", None
    account = subscription_state_apply(team=team, state=state)
    reason = invoice.get("billing_reason") or ""
    if reason not in CYCLE_STARTING_REASONS:
        return f"paid ({reason})", team
    start, end = _invoice_period(invoice)
    with transaction.atomic():
        try:
            with transaction.atomic():
                PaidInvoice.objects.create(
                    invoice_id=invoice_id,
                    team=team,
                    subscription_id=subscription_id,
                    billing_reason=reason,
                    plan_code=state.plan_code,
                    amount_paid_cents=invoice.get("amount_paid") or 0,
                    period_start=start,
                    period_end=end,
                )
        except IntegrityError:
            return "cycle already started", team
        newest = PaidInvoice.objects.filter(team=team).order_by("-period_start").values_list("invoice_id", flat=True)
        if (
            newest.first() == invoice_id
            and account.status in PLAN_KEEPING_STATUSES
            and account.subscription_id == state.id
        ):
            # The quotas' monthly cycles count from the paid period's start (annual plans too).
            wallet_set_plan(**team_wallet_kwargs(team), plan_code=account.plan_code, cycle_anchor=start)
    return f"cycle from {start:%Y-%m-%d} ({reason})", team


def invoice_payment_failed(*, invoice_id: str) -> tuple[str, Team | None]:
    """invoice.payment_failed: the subscription's state (past_due keeps the plan); the owner is told."""
    invoice = stripe_call(stripe.Invoice.retrieve, invoice_id)
    team = _team_or_none(stripe_id(invoice.get("customer")))
    subscription_id = _invoice_subscriptionstripe_id(invoice)
    if team is None or not subscription_id:
        return "not a subscription invoice of ours", team
    account = subscription_state_apply(team=team, state=subscription_fetch(subscription_id=subscription_id))
    recipient = team.billing_email
    if recipient:
        send_mail(
            subject="Your payment failed",
            message=(
                f"The payment of {invoice.get('amount_due', 0) / 100:.2f} {invoice.get('currency', 'usd').upper()} "
                f"for the team {team.name} failed. Stripe will try again; please update the payment method "
                "in the billing portal. The team keeps its plan meanwhile."
            ),
            from_email=None,
            recipient_list=[recipient],
        )
    return f"payment failed: {account.status}", team


def charge_refunded(*, charge_id: str) -> tuple[str, Team | None]:
    """charge.refunded of a top-up: take back the refunded share of its credits (never below zero).

    A refund of a top-up not credited yet takes nothing now: crediting it (``topup_fulfil``)
    reads the charge and takes the refunded share back then.
    """
    charge = stripe_call(stripe.Charge.retrieve, charge_id)
    payment_intent_id = stripe_id(charge.get("payment_intent"))
    if not payment_intent_id:
        return "no payment intent", None
    with transaction.atomic():
        purchase = TopUpPurchase.objects.select_for_update().filter(payment_intent_id=payment_intent_id).first()
        if purchase is None or purchase.status == TopUpPurchase.Status.PENDING:
            return "not a credited top-up (yet: crediting it takes the refund into account)", None
        taken = _take_back_refunded(purchase, charge)
    if taken is None:
        return "nothing more to take back", purchase.team
    return f"took back {taken}", purchase.team


def dispute_created(*, dispute_id: str) -> tuple[str, Team | None]:
    """charge.dispute.created: the team is flagged for staff."""
    dispute = stripe_call(stripe.Dispute.retrieve, dispute_id)
    charge = stripe_call(stripe.Charge.retrieve, stripe_id(dispute.get("charge")))
    team = _team_or_none(stripe_id(charge.get("customer")), dict(charge.get("metadata") or {}))
    if team is None:
        return "unknown customer", None
    team_flag_for_staff(team=team, reason=f"Stripe dispute {dispute_id} ({dispute.get('reason') or 'no reason'})")
    return "flagged", team
