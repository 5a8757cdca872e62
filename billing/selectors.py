"""Billing reads: the team's wallet and plan, its billing account, the catalogue it sees,
its invoices and the staff revenue figures.

``team_wallet_kwargs`` is the one place that says which wallet belongs to a team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from djstripe.models import Customer

from billing.catalog import plan_lookup_key, topup_lookup_key
from billing.models import BillingAccount, TopUpPurchase
from credits.models import Plan, TopUpPackage
from credits.selectors import plan_for_account
from teams.models import Membership, Team

# Statuses in which the team keeps its paid plan (Stripe's retry window included).
PLAN_KEEPING_STATUSES = {
    BillingAccount.Status.ACTIVE,
    BillingAccount.Status.TRIALING,
    BillingAccount.Status.PAST_DUE,
}
# Billing is the owner's (PRODUCT.md: owner = billing and ownership; admin = members, invitations).
WRITE_ROLES = {Membership.Role.OWNER}


# Statuses of a subscription that still bills, or may (``incomplete``: its first payment is pending).
NOT_ENDED_STATUSES = PLAN_KEEPING_STATUSES | {
    BillingAccount.Status.UNPAID,
    BillingAccount.Status.INCOMPLETE,
    BillingAccount.Status.PAUSED,
}


def subscription_not_ended(*, team: Team) -> str | None:
    """The status of the team's Stripe subscription if it has not ended (None: none, or ended)."""
    account = BillingAccount.objects.filter(team=team).exclude(subscription_id="").first()
    if account is not None and account.status in NOT_ENDED_STATUSES:
        return account.status
    return None


def team_wallet_kwargs(team: Team) -> dict[str, Any]:
    """How the credits services name this team's wallet: the team is the account."""
    return {"account_id": team.pk}


def team_plan(team: Team) -> Plan:
    return plan_for_account(**team_wallet_kwargs(team))


def billing_account_get(*, team: Team) -> BillingAccount | None:
    return BillingAccount.objects.filter(team=team).first()


def team_for_customer(*, customer_id: str) -> Team | None:
    """The team whose Stripe customer this is (our account row, else dj-stripe's subscriber)."""
    account = BillingAccount.objects.select_related("team").filter(stripe_customer_id=customer_id).first()
    if account is not None:
        return account.team
    customer = Customer.objects.filter(id=customer_id).select_related("subscriber").first()
    return customer.subscriber if customer is not None else None


@dataclass(frozen=True)
class CatalogPlan:
    code: str
    name: str
    monthly_price_cents: int
    annual_price_cents: int
    seats: int
    quotas: dict[str, int]
    topup_discount_percent: int
    lookup_keys: dict[str, str]
    current: bool


@dataclass(frozen=True)
class CatalogPackage:
    code: str
    name: str
    credits: int
    list_price_cents: int
    price_cents: int
    lookup_key: str


def catalog_for_team(*, team: Team) -> dict[str, Any]:
    """Plans and top-up packages with the prices this team would pay."""
    current = team_plan(team)
    plans = [
        CatalogPlan(
            code=plan.code,
            name=plan.name,
            monthly_price_cents=plan.monthly_price_cents,
            annual_price_cents=plan.annual_price_cents,
            seats=plan.seats,
            quotas=plan.quotas,
            topup_discount_percent=plan.topup_discount_percent,
            lookup_keys=(
                {i: plan_lookup_key(plan_code=plan.code, interval=i) for i in ("month", "year")}
                if plan.monthly_price_cents
                else {}
            ),
            current=plan.pk == current.pk,
        )
        for plan in Plan.objects.all()
    ]
    packages = [
        CatalogPackage(
            code=package.code,
            name=package.name,
            credits=package.credits,
            list_price_cents=package.price_cents,
            price_cents=package.price_cents_for(current),
            lookup_key=topup_lookup_key(package_code=package.code, plan=current),
        )
        for package in TopUpPackage.objects.filter(active=True)
    ]
    return {"current_plan": current.code, "plans": plans, "packages": packages}


def revenue_summary(*, months: int = 12, now: datetime | None = None) -> dict[str, Any]:
    """Staff figures from our synced rows: MRR by plan, subscriptions by status, top-ups by month."""
    now = now or timezone.now()
    prices = {p.code: p for p in Plan.objects.all()}
    mrr: dict[str, int] = {}
    paying = BillingAccount.objects.filter(status__in=PLAN_KEEPING_STATUSES).exclude(plan_code="free")
    for row in paying.values("plan_code", "interval").annotate(n=Count("id")):
        plan = prices.get(row["plan_code"])
        if plan is None:
            continue
        monthly = plan.annual_price_cents // 12 if row["interval"] == "year" else plan.monthly_price_cents
        mrr[row["plan_code"]] = mrr.get(row["plan_code"], 0) + monthly * row["n"]
    by_status = dict(
        BillingAccount.objects.exclude(status=BillingAccount.Status.NONE)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    topups = (
        TopUpPurchase.objects.filter(paid_at__gte=now - relativedelta(months=months), status__in=["paid", "refunded"])
        .annotate(month=TruncMonth("paid_at"))
        .values("month")
        .annotate(
            revenue_cents=Sum("amount_cents"),
            purchases=Count("id"),
            refunded=Count("id", filter=Q(status="refunded")),
        )
        .order_by("month")
    )
    return {
        "mrr_cents_by_plan": mrr,
        "mrr_cents": sum(mrr.values()),
        "subscriptions_by_status": by_status,
        "topups_by_month": list(topups),
    }
