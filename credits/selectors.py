"""Reads of the credits app: plans, prices, quotes, balances, usage, history and stats.

``plan_for_account`` is the one place that decides an account's plan (its wallet's plan).
An account is a team; credits knows only its id (``account_id``). ``credits_quote`` computes what an action would
cost, unit by unit, without writing anything; ``credits.services.credits_spend`` uses the
same arithmetic (``split_units``) under the wallet lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from credits.errors import InvalidAmount, UnknownAction
from credits.models import PLAN_QUOTA_FIELDS, CreditTransaction, Plan, PricingRule, QuotaUsage, TopUpPackage, Wallet

BUCKET_FREE = "free"
BUCKET_PLAN = "plan_quota"
BUCKET_CREDITS = "credits"


def balance_cache_key(account_id: Any) -> str:
    return f"credits:balance:{account_id}"


def plan_free() -> Plan:
    return Plan.objects.get(code=Plan.Code.FREE)


def plan_for_account(*, account_id: Any) -> Plan:
    """The plan whose quotas and discount apply to the account (the wallet's plan, else Free)."""
    wallet = Wallet.objects.select_related("plan").filter(account_id=account_id).first()
    return wallet.plan if wallet else plan_free()


def pricing_rule_get(*, action_type: str) -> PricingRule:
    rule = PricingRule.objects.filter(action_type=action_type, active=True).first()
    if rule is None:
        raise UnknownAction(f"Unknown or inactive action: {action_type}.", details={"action_type": action_type})
    return rule


def pricing_rule_list() -> QuerySet[PricingRule]:
    return PricingRule.objects.filter(active=True).order_by("action_type")


def plan_list() -> QuerySet[Plan]:
    return Plan.objects.all()


def topup_package_list() -> QuerySet[TopUpPackage]:
    return TopUpPackage.objects.filter(active=True)


@dataclass(frozen=True)
class Allowance:
    action_type: str
    free_allowance: int
    free_used: int
    plan_quota: int
    plan_used: int

    @property
    def free_left(self) -> int:
        return max(0, self.free_allowance - self.free_used)

    @property
    def plan_left(self) -> int:
        return max(0, self.plan_quota - self.plan_used)


def split_units(*, quantity: int, free_left: int, plan_left: int) -> list[str]:
    """The bucket paying each unit: free monthly uses, then plan quota, then credits."""
    free = min(quantity, max(0, free_left))
    plan = min(quantity - free, max(0, plan_left))
    return [BUCKET_FREE] * free + [BUCKET_PLAN] * plan + [BUCKET_CREDITS] * (quantity - free - plan)


def free_allowances_withheld(*, wallet: Wallet | None, plan: Plan) -> bool:
    """True for an account on Free whose wallet does not get the Free plan's monthly allowances.

    They come once per person, with the personal team (``teams.services.team_create``): an
    extra team on Free has no Free quota and no free uses, so that creating teams never mints
    free unlocks or searches. On a paid plan every team has its plan's quota and the free uses.
    """
    return wallet is not None and not wallet.free_allowances and plan.code == Plan.Code.FREE


def allowance_make(*, rule: PricingRule, plan: Plan, wallet: Wallet | None, usage: QuotaUsage | None) -> Allowance:
    """The cycle's allowance of one action: the one place that says what an account may use."""
    withheld = free_allowances_withheld(wallet=wallet, plan=plan)
    return Allowance(
        action_type=rule.action_type,
        free_allowance=0 if withheld else rule.free_uses_per_month,
        free_used=usage.free_used if usage else 0,
        plan_quota=0 if withheld else plan.quota_for(rule.action_type),
        plan_used=usage.plan_used if usage else 0,
    )


def allowance_for(*, wallet: Wallet | None, plan: Plan, rule: PricingRule, cycle_start: datetime | None) -> Allowance:
    usage = None
    if wallet is not None and wallet.pk and cycle_start is not None:
        usage = QuotaUsage.objects.filter(wallet=wallet, cycle_start=cycle_start, action_type=rule.action_type).first()
    return allowance_make(rule=rule, plan=plan, wallet=wallet, usage=usage)


@dataclass
class Quote:
    action_type: str
    quantity: int
    credits_per_unit: int
    buckets: list[str]
    price: int
    balance: int
    # The account is on Free without the Free plan's allowances (``free_allowances_withheld``).
    allowances_withheld: bool = False
    allowed: bool = field(init=False)
    missing: int = field(init=False)

    def __post_init__(self) -> None:
        self.missing = max(0, self.price - self.balance)
        self.allowed = self.missing == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "action_type": self.action_type,
            "quantity": self.quantity,
            "credits_per_unit": self.credits_per_unit,
            "buckets": self.buckets,
            "price": self.price,
            "balance": self.balance,
            "missing": self.missing,
            "allowed": self.allowed,
        }


def validate_quantity(quantity: int) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise InvalidAmount("quantity must be a positive integer.", details={"quantity": quantity})


def credits_quote_many(*, account_id: Any, items: Iterable[tuple[str, int]]) -> list[Quote]:
    """Quote several actions in order; allowances used by earlier items are not reused."""
    wallet = Wallet.objects.select_related("plan").filter(account_id=account_id).first()
    plan = wallet.plan if wallet else plan_free()
    balance = wallet.balance if wallet else 0
    cycle_start = wallet.cycle_start if wallet else None
    taken: dict[str, tuple[int, int]] = {}
    quotes: list[Quote] = []
    remaining_balance = balance
    for action_type, quantity in items:
        validate_quantity(quantity)
        rule = pricing_rule_get(action_type=action_type)
        allowance = allowance_for(wallet=wallet, plan=plan, rule=rule, cycle_start=cycle_start)
        free_taken, plan_taken = taken.get(action_type, (0, 0))
        buckets = split_units(
            quantity=quantity, free_left=allowance.free_left - free_taken, plan_left=allowance.plan_left - plan_taken
        )
        taken[action_type] = (free_taken + buckets.count(BUCKET_FREE), plan_taken + buckets.count(BUCKET_PLAN))
        price = buckets.count(BUCKET_CREDITS) * rule.credits_per_unit
        quotes.append(
            Quote(
                action_type=action_type,
                quantity=quantity,
                credits_per_unit=rule.credits_per_unit,
                buckets=buckets,
                price=price,
                balance=remaining_balance,
                allowances_withheld=free_allowances_withheld(wallet=wallet, plan=plan),
            )
        )
        remaining_balance = max(0, remaining_balance - price)
    return quotes


def credits_quote(*, account_id: Any, action_type: str, quantity: int = 1) -> Quote:
    """What ``credits_spend`` would charge now, and which bucket would pay each unit (no writes)."""
    return credits_quote_many(account_id=account_id, items=[(action_type, quantity)])[0]


def wallet_get(*, account_id: Any) -> Wallet | None:
    return Wallet.objects.select_related("plan").filter(account_id=account_id).first()


def wallet_balance_cached(*, account_id: Any) -> dict[str, Any]:
    """The balance card, cached ``CREDITS_BALANCE_CACHE_SECONDS``; every movement deletes it."""
    key = balance_cache_key(account_id)
    data = cache.get(key)
    if data is not None:
        return {**data, "cached": True}
    wallet = wallet_get(account_id=account_id)
    if wallet is None:
        return {"balance": 0, "plan": plan_free().code, "cycle_start": None, "cycle_end": None, "cached": False}
    data = {
        "balance": wallet.balance,
        "plan": wallet.plan.code,
        "cycle_start": wallet.cycle_start.isoformat(),
        "cycle_end": wallet.cycle_end.isoformat(),
    }
    cache.set(key, data, settings.CREDITS_BALANCE_CACHE_SECONDS)
    return {**data, "cached": False}


def allowance_list(*, wallet: Wallet) -> list[Allowance]:
    usages = {u.action_type: u for u in QuotaUsage.objects.filter(wallet=wallet, cycle_start=wallet.cycle_start)}
    result = []
    for rule in pricing_rule_list():
        if rule.free_uses_per_month == 0 and rule.action_type not in PLAN_QUOTA_FIELDS:
            continue
        result.append(allowance_make(rule=rule, plan=wallet.plan, wallet=wallet, usage=usages.get(rule.action_type)))
    return result


def transaction_list(
    *,
    wallet: Wallet,
    kind: str | None = None,
    action_type: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    q: str | None = None,
) -> QuerySet[CreditTransaction]:
    qs = CreditTransaction.objects.filter(wallet=wallet)
    if kind:
        qs = qs.filter(kind=kind)
    if action_type:
        qs = qs.filter(action_type=action_type)
    if date_from:
        qs = qs.filter(created_at__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__lt=date_to)
    if q:
        qs = qs.filter(Q(reference__icontains=q) | Q(reason__icontains=q) | Q(action_type__icontains=q))
    return qs.order_by("-created_at", "-id")


def usage_by_cycle(*, wallet: Wallet, cycles: int = 6) -> list[dict[str, Any]]:
    """Per cycle and action: free and plan uses, units bought with credits and credits spent."""
    since = wallet.cycle_start - relativedelta(months=cycles - 1)
    rows: dict[tuple[datetime, str], dict[str, Any]] = {}
    for usage in QuotaUsage.objects.filter(wallet=wallet, cycle_start__gte=since):
        rows[(usage.cycle_start, usage.action_type)] = {
            "cycle_start": usage.cycle_start,
            "action_type": usage.action_type,
            "free_used": usage.free_used,
            "plan_used": usage.plan_used,
            "credits_spent": 0,
        }
    spends = (
        CreditTransaction.objects.filter(wallet=wallet, kind__in=["spend", "refund"], cycle_start__gte=since)
        .values("cycle_start", "action_type")
        .annotate(total=Sum("amount"))
    )
    for spend in spends:
        row = rows.setdefault(
            (spend["cycle_start"], spend["action_type"]),
            {
                "cycle_start": spend["cycle_start"],
                "action_type": spend["action_type"],
                "free_used": 0,
                "plan_used": 0,
                "credits_spent": 0,
            },
        )
        row["credits_spent"] = -int(spend["total"] or 0)
    return sorted(rows.values(), key=lambda r: (r["cycle_start"], r["action_type"]), reverse=True)


def spending_by_month(*, wallet: Wallet, months: int = 6, now: datetime | None = None) -> list[dict[str, Any]]:
    """Credits spent (net of refunds) and units used per calendar month and action."""
    now = now or timezone.now()
    first = (now - relativedelta(months=months - 1)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = (
        CreditTransaction.objects.filter(wallet=wallet, kind__in=["spend", "refund"], created_at__gte=first)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "action_type")
        .annotate(total=Sum("amount"), spends=Count("id", filter=Q(kind="spend")), units=Sum("quantity"))
        .order_by("month", "action_type")
    )
    return [
        {
            "month": row["month"].strftime("%Y-%m"),
            "action_type": row["action_type"],
            "credits": -int(row["total"] or 0),
            "spends": row["spends"],
        }
        for row in rows
    ]


def system_stats(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    since = now - relativedelta(days=30)
    wallets = Wallet.objects.aggregate(
        count=Count("id"), balance=Sum("balance"), earned=Sum("lifetime_earned"), spent=Sum("lifetime_spent")
    )
    by_kind = {
        row["kind"]: {"count": row["count"], "amount": int(row["amount"] or 0)}
        for row in CreditTransaction.objects.filter(created_at__gte=since)
        .values("kind")
        .annotate(count=Count("id"), amount=Sum("amount"))
    }
    top_actions = [
        {"action_type": row["action_type"], "spends": row["count"], "credits": -int(row["amount"] or 0)}
        for row in CreditTransaction.objects.filter(created_at__gte=since, kind="spend")
        .values("action_type")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("-count")[:10]
    ]
    plans = {row["plan__code"]: row["count"] for row in Wallet.objects.values("plan__code").annotate(count=Count("id"))}
    return {
        "wallets": wallets["count"] or 0,
        "total_balance": int(wallets["balance"] or 0),
        "lifetime_earned": int(wallets["earned"] or 0),
        "lifetime_spent": int(wallets["spent"] or 0),
        "wallets_by_plan": plans,
        "last_30_days": {"by_kind": by_kind, "top_actions": top_actions},
    }


def spend_recent_exists(*, account_id: Any, action_type: str, reference_prefix: str, since: datetime) -> bool:
    """Whether the account's wallet paid (or used an allowance for) ``action_type`` on a reference
    starting with ``reference_prefix`` since ``since``: for "the same thing again within a
    window is free" rules (discovery pages), checked under the wallet lock by the gate.
    """
    return CreditTransaction.objects.filter(
        wallet__account_id=account_id,
        kind=CreditTransaction.Kind.SPEND,
        action_type=action_type,
        reference__startswith=reference_prefix,
        created_at__gte=since,
    ).exists()
