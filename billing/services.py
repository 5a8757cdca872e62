"""Billing services: the team's Stripe customer, Checkout, the portal, subscription changes,
and applying a subscription's current Stripe state to the team.

Every Stripe call goes through the official SDK with ``stripe_options()`` (the mode's key,
the pinned API version). Metadata sent to Stripe names the team and what is bought, never
a user, a password, a token or a key. Our rows (``BillingAccount``, ``TopUpPurchase``) are
written here and in ``billing.reactions``; dj-stripe's tables only by dj-stripe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from djstripe.models import Customer, WebhookEndpoint

from billing.catalog import parse_plan_lookup_key, plan_lookup_key, price_id_for, topup_lookup_key
from billing.conf import stripe_call, stripe_errors, stripe_id, stripe_options, stripe_ts
from billing.errors import InvalidChange, NoSubscription, SeatsExceedPlan, SubscriptionExists
from billing.models import BillingAccount, TopUpPurchase
from billing.selectors import NOT_ENDED_STATUSES, PLAN_KEEPING_STATUSES, team_plan, team_wallet_kwargs
from config.errors import ValidationFailed
from credits.models import Plan, TopUpPackage
from credits.services import wallet_set_plan
from teams.models import Team
from teams.selectors import team_seats

logger = logging.getLogger(__name__)

SUBSCRIPTION_EXPAND = ["items.data.price"]


def billing_account_lock(*, team: Team) -> BillingAccount:
    """The team's account row, created when missing, locked until the transaction ends."""
    BillingAccount.objects.get_or_create(team=team)
    return BillingAccount.objects.select_for_update().get(team=team)


def _team_metadata(team: Team, **extra: str) -> dict[str, str]:
    # Identifiers only: what Stripe shows on the dashboard and what our reactions read back.
    return {"team_id": str(team.pk), **extra}


def customer_ensure(*, team: Team) -> str:
    """The team's Stripe customer id, created on first use (one per team, also under races)."""
    with transaction.atomic():
        account = billing_account_lock(team=team)
        if account.stripe_customer_id:
            return account.stripe_customer_id
        # dj-stripe's own call (it forwards unknown keywords to Stripe: no ``stripe_call``, whose
        # stripe_version it would pass on), with the same error mapping.
        with stripe_errors():
            customer, _ = Customer.get_or_create(
                subscriber=team,
                livemode=settings.STRIPE_LIVE_MODE,
                api_key=stripe_options()["api_key"],
                metadata=_team_metadata(team),
                description=team.name,
            )
        account.stripe_customer_id = customer.id
        account.save(update_fields=["stripe_customer_id", "updated_at"])
        return customer.id


def _return_urls() -> dict[str, str]:
    return {
        "success_url": settings.BILLING_SUCCESS_URL + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": settings.BILLING_CANCEL_URL,
    }


def _plan_and_interval(plan_code: str, interval: str) -> Plan:
    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None or plan.monthly_price_cents <= 0:
        raise ValidationFailed(
            "Choose a paid plan.", code="invalid_plan", details={"plan": [f"Unknown plan {plan_code!r}."]}
        )
    if interval not in BillingAccount.Interval.values:
        raise ValidationFailed(
            "Choose month or year.", code="invalid_interval", details={"interval": ["month or year"]}
        )
    return plan


def checkout_subscription_start(*, team: Team, plan_code: str, interval: str) -> dict[str, str]:
    """A Checkout Session (mode subscription) for the team's customer; returns its id and URL.

    A team is billed for one subscription at most. Under the team's billing row lock (so two
    checkouts started at once run one after the other), Stripe is asked for the customer's
    subscriptions that have not ended, including one still awaiting its first payment: any
    is 409 ``subscription_exists``. The team's earlier subscription checkouts still open are
    expired: only the newest one can be paid, so two tabs cannot both subscribe.
    """
    _plan_and_interval(plan_code, interval)
    account = BillingAccount.objects.filter(team=team).first()
    if account is not None and account.subscription_id and account.status in PLAN_KEEPING_STATUSES:
        raise SubscriptionExists(
            "The team already has a subscription: change it instead.", details={"plan": account.plan_code}
        )
    customer_id = customer_ensure(team=team)
    price_id = price_id_for(plan_lookup_key(plan_code=plan_code, interval=interval))
    metadata = _team_metadata(team, kind="subscription", plan=plan_code, interval=interval)
    with transaction.atomic():
        billing_account_lock(team=team)
        live = _subscriptions_not_ended(customer_id)
        if live:
            raise SubscriptionExists(
                "The team already has a subscription: change it instead, or wait for its payment to settle.",
                details={"subscription_status": live[0].get("status")},
            )
        for open_session in _subscription_checkouts_open(customer_id):
            stripe_call(stripe.checkout.Session.expire, open_session["id"])
        session = _checkout_session_create(
            team, customer_id, price_id, mode="subscription", metadata=metadata,
            subscription_data={"metadata": _team_metadata(team)},
        )  # fmt: skip
    return {"id": session.id, "url": session.url}


def _checkout_session_create(
    team: Team, customer_id: str, price_id: str, *, mode: str, metadata: dict[str, str], **extra: Any
) -> Any:
    """A Checkout Session of one price for the team's customer (``extra``: the mode's own data)."""
    return stripe_call(
        stripe.checkout.Session.create,
        mode=mode,
        customer=customer_id,
        client_reference_id=str(team.pk),
        line_items=[{"price": price_id, "quantity": 1}],
        metadata=metadata,
        **extra,
        **_return_urls(),
    )


def _subscriptions_not_ended(customer_id: str) -> list[dict]:
    found = stripe_call(stripe.Subscription.list, customer=customer_id, status="all", limit=20)
    return [s for s in found.get("data", []) if s.get("status") in NOT_ENDED_STATUSES]


def _subscription_checkouts_open(customer_id: str) -> list[dict]:
    found = stripe_call(stripe.checkout.Session.list, customer=customer_id, status="open", limit=20)
    return [s for s in found.get("data", []) if s.get("status") == "open" and s.get("mode") == "subscription"]


def checkout_topup_start(*, team: Team, package_code: str) -> dict[str, Any]:
    """A Checkout Session (mode payment) for a top-up at the price the team's plan pays."""
    package = TopUpPackage.objects.filter(code=package_code, active=True).first()
    if package is None:
        raise ValidationFailed(
            "Unknown top-up package.",
            code="invalid_package",
            details={"package": [f"Unknown package {package_code!r}."]},
        )
    plan = team_plan(team)
    lookup_key = topup_lookup_key(package_code=package.code, plan=plan)
    customer_id = customer_ensure(team=team)
    price_id = price_id_for(lookup_key)
    metadata = _team_metadata(team, kind="topup", package=package.code)
    session = _checkout_session_create(
        team, customer_id, price_id, mode="payment", metadata=metadata, payment_intent_data={"metadata": metadata}
    )
    TopUpPurchase.objects.create(
        team=team,
        checkout_session_id=session.id,
        package_code=package.code,
        credits=package.credits,
        amount_cents=package.price_cents_for(plan),
        price_lookup_key=lookup_key,
    )
    return {"id": session.id, "url": session.url, "amount_cents": package.price_cents_for(plan)}


def portal_session_start(*, team: Team) -> dict[str, str]:
    customer_id = customer_ensure(team=team)
    session = stripe_call(
        stripe.billing_portal.Session.create, customer=customer_id, return_url=settings.BILLING_PORTAL_RETURN_URL
    )
    return {"url": session.url}


@dataclass(frozen=True)
class SubscriptionState:
    """A subscription as Stripe has it now; periods read from its (first) item."""

    id: str
    customer_id: str
    status: str
    plan_code: str
    interval: str
    price_id: str
    item_id: str
    period_start: datetime | None
    period_end: datetime | None
    cancel_at_period_end: bool
    schedule_id: str


def subscription_state(subscription: Any) -> SubscriptionState:
    item = subscription["items"]["data"][0]
    price = item["price"]
    if isinstance(price, str):
        price = stripe_call(stripe.Price.retrieve, price)
    parsed = parse_plan_lookup_key(price.get("lookup_key"))
    meta = price.get("metadata") or {}
    plan_code, interval = parsed or (meta.get("plan", "free"), (price.get("recurring") or {}).get("interval", ""))
    return SubscriptionState(
        id=subscription["id"],
        customer_id=stripe_id(subscription.get("customer")),
        status=subscription["status"],
        plan_code=plan_code,
        interval=interval,
        price_id=price["id"],
        item_id=item["id"],
        period_start=stripe_ts(item.get("current_period_start")),
        period_end=stripe_ts(item.get("current_period_end")),
        cancel_at_period_end=bool(subscription.get("cancel_at_period_end")),
        schedule_id=stripe_id(subscription.get("schedule")),
    )


def subscription_fetch(*, subscription_id: str) -> SubscriptionState:
    return subscription_state(stripe_call(stripe.Subscription.retrieve, subscription_id, expand=SUBSCRIPTION_EXPAND))


def subscription_state_apply(*, team: Team, state: SubscriptionState) -> BillingAccount:
    """Make the team's account and plan what Stripe's subscription says now.

    A state of another (older) subscription never overrides the current one's, so events
    of a replaced subscription arriving late change nothing.
    """
    with transaction.atomic():
        account = billing_account_lock(team=team)
        keeps_plan = state.status in PLAN_KEEPING_STATUSES
        if account.subscription_id and account.subscription_id != state.id and not keeps_plan:
            return account
        account.stripe_customer_id = account.stripe_customer_id or state.customer_id
        account.subscription_id = state.id
        account.status = state.status
        account.plan_code = state.plan_code if keeps_plan else Plan.Code.FREE
        account.interval = state.interval if keeps_plan else ""
        account.current_period_start = state.period_start
        account.current_period_end = state.period_end
        account.cancel_at_period_end = state.cancel_at_period_end
        applied = (account.pending_plan_code, account.pending_interval) == (state.plan_code, state.interval)
        if not state.schedule_id or applied or not keeps_plan:
            account.pending_plan_code, account.pending_interval, account.pending_effective_at = "", "", None
        account.schedule_id = state.schedule_id if keeps_plan else ""
        account.synced_at = timezone.now()
        account.save()
        if team_plan(team).code != account.plan_code:
            wallet_set_plan(**team_wallet_kwargs(team), plan_code=account.plan_code)
    return account


def _require_subscription(team: Team) -> BillingAccount:
    account = BillingAccount.objects.filter(team=team).first()
    if account is None or not account.subscription_id or account.status not in PLAN_KEEPING_STATUSES:
        raise NoSubscription("The team has no active subscription.")
    return account


def _require_seats_for(team: Team, plan: Plan) -> None:
    """Seats are never exceeded (PRODUCT.md): a plan with fewer seats than the team holds is refused.

    Members plus pending invitations count; the owner frees seats first (remove members,
    revoke invitations). A cancellation is never refused: the team then keeps its members on
    Free and can invite nobody (``teams.selectors.team_seats`` shows it over its limit).
    """
    seats = team_seats(team=team)
    if seats.used > plan.seats:
        raise SeatsExceedPlan(
            f"The {plan.name} plan has {plan.seats} seat(s) and the team holds {seats.used} "
            f"({seats.members} members, {seats.pending} pending invitations): free "
            f"{seats.used - plan.seats} first.",
            details={
                "plan": plan.code,
                "plan_seats": plan.seats,
                "members": seats.members,
                "pending_invitations": seats.pending,
                "to_free": seats.used - plan.seats,
            },
        )


def subscription_change(*, team: Team, plan_code: str, interval: str) -> BillingAccount:
    """Upgrade now with proration; downgrade or switch interval at the end of the period."""
    new_plan = _plan_and_interval(plan_code, interval)
    account = _require_subscription(team)
    state = subscription_fetch(subscription_id=account.subscription_id)
    if (state.plan_code, state.interval) == (plan_code, interval):
        raise InvalidChange("The team is already on this plan and interval.")
    current = Plan.objects.get(code=state.plan_code)
    _require_seats_for(team, new_plan)
    new_price = price_id_for(plan_lookup_key(plan_code=plan_code, interval=interval))
    if state.schedule_id:
        stripe_call(stripe.SubscriptionSchedule.release, state.schedule_id)
    if interval == state.interval and new_plan.monthly_price_cents > current.monthly_price_cents:
        subscription = stripe_call(
            stripe.Subscription.modify,
            state.id,
            items=[{"id": state.item_id, "price": new_price}],
            proration_behavior="always_invoice",
            payment_behavior="pending_if_incomplete",
            expand=SUBSCRIPTION_EXPAND,
        )
        return subscription_state_apply(team=team, state=subscription_state(subscription))
    schedule = stripe_call(stripe.SubscriptionSchedule.create, from_subscription=state.id)
    stripe_call(
        stripe.SubscriptionSchedule.modify,
        schedule.id,
        end_behavior="release",
        phases=[
            {
                "items": [{"price": state.price_id, "quantity": 1}],
                "start_date": int(state.period_start.timestamp()),
                "end_date": int(state.period_end.timestamp()),
                "proration_behavior": "none",
            },
            {"items": [{"price": new_price, "quantity": 1}], "iterations": 1, "proration_behavior": "none"},
        ],
    )
    with transaction.atomic():
        account = billing_account_lock(team=team)
        account.pending_plan_code, account.pending_interval = plan_code, interval
        account.pending_effective_at = state.period_end
        account.schedule_id = schedule.id
        account.save()
    return account


def subscription_cancel(*, team: Team, resume: bool = False) -> BillingAccount:
    """Cancel at the end of the period (``resume``: undo that); a pending change is dropped."""
    account = _require_subscription(team)
    state = subscription_fetch(subscription_id=account.subscription_id)
    if state.schedule_id and not resume:
        stripe_call(stripe.SubscriptionSchedule.release, state.schedule_id)
    subscription = stripe_call(
        stripe.Subscription.modify, state.id, cancel_at_period_end=not resume, expand=SUBSCRIPTION_EXPAND
    )
    return subscription_state_apply(team=team, state=subscription_state(subscription))


def team_resync(*, team: Team) -> BillingAccount | None:
    """Staff: read the team's subscription from Stripe again and apply it."""
    account = BillingAccount.objects.filter(team=team).first()
    if account is None or not account.subscription_id:
        return account
    return subscription_state_apply(team=team, state=subscription_fetch(subscription_id=account.subscription_id))


def invoices_list(*, team: Team, limit: int = 20) -> list[dict[str, Any]]:
    account = BillingAccount.objects.filter(team=team).first()
    if account is None or not account.stripe_customer_id:
        return []
    invoices = stripe_call(stripe.Invoice.list, customer=account.stripe_customer_id, limit=limit)
    return [
        {
            "id": inv["id"],
            "number": inv.get("number") or "",
            "status": inv.get("status") or "",
            "amount_due_cents": inv.get("amount_due") or 0,
            "amount_paid_cents": inv.get("amount_paid") or 0,
            "currency": inv.get("currency") or "usd",
            "created": stripe_ts(inv.get("created")),
            "hosted_invoice_url": inv.get("hosted_invoice_url") or "",
            "invoice_pdf": inv.get("invoice_pdf") or "",
        }
        for inv in invoices.data
    ]


WEBHOOK_EVENTS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
]


def webhook_endpoint_setup(*, base_url: str) -> WebhookEndpoint:
    """Create the one webhook endpoint in Stripe and its dj-stripe row (with its secret)."""
    existing = WebhookEndpoint.objects.filter(livemode=settings.STRIPE_LIVE_MODE).first()
    if existing is not None:
        return existing
    endpoint = WebhookEndpoint(livemode=settings.STRIPE_LIVE_MODE)
    url = f"{base_url.rstrip('/')}/stripe/webhook/{endpoint.djstripe_uuid}/"
    created = stripe_call(
        stripe.WebhookEndpoint.create,
        url=url,
        enabled_events=WEBHOOK_EVENTS,
        api_version=settings.STRIPE_API_VERSION,
        metadata={"djstripe_uuid": str(endpoint.djstripe_uuid)},
    )
    return WebhookEndpoint.sync_from_stripe_data(created, api_key=stripe_options()["api_key"])


def webhook_trigger_reprocess(*, trigger: Any) -> bool:
    """Staff: process a stored, valid webhook delivery again (after a failed reaction).

    dj-stripe's own processing runs in one transaction; our reactions stay once per event id.
    """
    if not trigger.valid:
        return False
    with transaction.atomic():
        trigger.process()
    return True
