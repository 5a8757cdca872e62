"""Credits: plans, top-up packages, prices, wallets, the append-only ledger and quota usage.

Only ``credits.services`` writes these rows (balances, quotas, ledger). The app knows the
actions it prices (``action_type``) and what they were spent on (``reference``, e.g.
``profile:<uuid>``) as strings: it never imports the apps whose actions it charges.

Invariants kept by the database, not only by the code:
- a wallet's balance never goes below zero (check constraint);
- every ledger row satisfies ``balance_after = balance_before + amount`` and
  ``balance_after >= 0``; an idempotency key is used once per wallet;
- quota counters are non-negative and there is one counter row per wallet, cycle and action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from config.models import TimeStampedModel

# Actions whose monthly quota comes from the plan (PRODUCT.md: profiles, emails, posts).
PLAN_QUOTA_FIELDS: dict[str, str] = {
    "influencer_unlock": "profiles_per_month",
    "email_unlock": "emails_per_month",
    "post_analytics": "posts_per_month",
}


class Plan(TimeStampedModel):
    class Code(models.TextChoices):
        FREE = "free", "Free"
        STANDARD = "standard", "Standard"
        PREMIUM = "premium", "Premium"

    code = models.CharField(max_length=32, unique=True, choices=Code.choices)
    name = models.CharField(max_length=64)
    monthly_price_cents = models.PositiveIntegerField(default=0)
    annual_price_cents = models.PositiveIntegerField(default=0)
    seats = models.PositiveIntegerField(default=1)
    profiles_per_month = models.PositiveIntegerField(default=0, help_text="influencer_unlock quota")
    emails_per_month = models.PositiveIntegerField(default=0, help_text="email_unlock quota")
    posts_per_month = models.PositiveIntegerField(default=0, help_text="post_analytics quota")
    topup_discount_percent = models.PositiveSmallIntegerField(default=0)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "monthly_price_cents"]
        constraints = [
            models.CheckConstraint(condition=Q(topup_discount_percent__lte=100), name="credits_plan_discount_lte_100"),
            models.CheckConstraint(condition=Q(seats__gte=1), name="credits_plan_seats_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name

    def quota_for(self, action_type: str) -> int:
        field = PLAN_QUOTA_FIELDS.get(action_type)
        return int(getattr(self, field)) if field else 0

    @property
    def quotas(self) -> dict[str, int]:
        return {action: self.quota_for(action) for action in PLAN_QUOTA_FIELDS}


class TopUpPackage(TimeStampedModel):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    credits = models.PositiveIntegerField()
    price_cents = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["credits"]
        constraints = [models.CheckConstraint(condition=Q(credits__gt=0), name="credits_package_credits_gt_0")]

    def __str__(self) -> str:
        return f"{self.name} ({self.credits} credits)"

    def price_cents_for(self, plan: Plan) -> int:
        """The package price after the plan's top-up discount, rounded to the cent."""
        return (self.price_cents * (100 - plan.topup_discount_percent) + 50) // 100


class PricingRule(TimeStampedModel):
    action_type = models.SlugField(max_length=64, unique=True)
    credits_per_unit = models.PositiveIntegerField()
    free_uses_per_month = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["action_type"]

    def __str__(self) -> str:
        return f"{self.action_type}: {self.credits_per_unit} credits"


def _free_plan_id() -> int | None:
    # The Free plan row is seeded by migration 0002; wallets default to it.
    return Plan.objects.filter(code=Plan.Code.FREE).values_list("pk", flat=True).first()


class Wallet(TimeStampedModel):
    """One per account (a team). ``balance`` holds purchased and granted credits (never negative).

    The billing cycle is anchored at ``cycle_anchor``: cycle *k* runs from anchor + k months
    to anchor + k+1 months, so month lengths never make the renewal day drift.
    ``balance == lifetime_earned - lifetime_spent`` (refunds reduce ``lifetime_spent``).
    """

    # The account (a team's id): credits knows an account id, never a team.
    account_id = models.UUIDField(unique=True)
    balance = models.BigIntegerField(default=0)
    lifetime_earned = models.BigIntegerField(default=0)
    lifetime_spent = models.BigIntegerField(default=0)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="wallets", default=_free_plan_id)
    cycle_anchor = models.DateTimeField(default=timezone.now)
    cycle_start = models.DateTimeField(default=timezone.now)
    cycle_end = models.DateTimeField(db_index=True)
    # The Free plan's monthly allowances (its quota and the free uses of actions) come once per
    # person: with their personal team. A team someone creates on top has them only on a paid plan.
    free_allowances = models.BooleanField(
        default=True, help_text="Whether the Free plan's monthly quota and free uses apply while on Free."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="credits_wallet_balance_gte_0"),
            models.CheckConstraint(condition=Q(lifetime_earned__gte=0), name="credits_wallet_earned_gte_0"),
            models.CheckConstraint(condition=Q(lifetime_spent__gte=0), name="credits_wallet_spent_gte_0"),
            models.CheckConstraint(condition=Q(cycle_end__gt=F("cycle_start")), name="credits_wallet_cycle_order"),
        ]

    def __str__(self) -> str:
        return f"wallet of {self.account_id}: {self.balance}"


class LedgerQuerySet(models.QuerySet):
    """The ledger is append-only: bulk updates and deletes are refused too."""

    def update(self, **kwargs):
        raise TypeError("The credit ledger is append-only.")

    def delete(self):
        raise TypeError("The credit ledger is append-only.")


class CreditTransaction(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", "Earn"
        SPEND = "spend", "Spend"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"
        EXPIRY = "expiry", "Expiry"

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    amount = models.BigIntegerField(help_text="Signed: negative takes credits out of the wallet.")
    balance_before = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    action_type = models.CharField(max_length=64, blank=True, db_index=True)
    quantity = models.PositiveIntegerField(default=0)
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=255)
    # Which bucket paid each unit of a spend ("free", "plan_quota", "credits"); a refund
    # repeats the buckets it gave back.
    buckets = models.JSONField(default=list, blank=True)
    # The billing cycle whose quota a spend used: a refund only gives quota back to it.
    cycle_start = models.DateTimeField(null=True, blank=True)
    refund_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunded_by"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["wallet", "idempotency_key"], name="credits_tx_wallet_key_unique"),
            models.CheckConstraint(
                condition=Q(balance_after=F("balance_before") + F("amount")), name="credits_tx_balance_chain"
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="credits_tx_balance_after_gte_0"),
            models.CheckConstraint(condition=~Q(kind="spend") | Q(amount__lte=0), name="credits_tx_spend_not_positive"),
            models.CheckConstraint(
                condition=~Q(kind__in=["earn", "refund"]) | Q(amount__gte=0), name="credits_tx_credit_not_negative"
            ),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="credits_tx_key_not_empty"),
        ]
        indexes = [models.Index(fields=["wallet", "created_at"], name="credits_tx_wallet_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} ({self.action_type or self.reason})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The credit ledger is append-only: a transaction cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The credit ledger is append-only: a transaction cannot be deleted.")


class QuotaUsage(TimeStampedModel):
    """Free uses and plan-quota uses consumed per wallet, billing cycle and action.

    A new cycle has no row yet, so its counters start at zero without touching old rows.
    Each use is explained by the ledger row whose ``buckets`` name it.
    """

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="quota_usages")
    cycle_start = models.DateTimeField()
    action_type = models.CharField(max_length=64)
    free_used = models.PositiveIntegerField(default=0)
    plan_used = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-cycle_start", "action_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "cycle_start", "action_type"], name="credits_quota_wallet_cycle_action_unique"
            ),
            models.CheckConstraint(condition=Q(free_used__gte=0) & Q(plan_used__gte=0), name="credits_quota_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.action_type} @ {self.cycle_start:%Y-%m-%d}: free {self.free_used}, plan {self.plan_used}"


class SpendRequest(TimeStampedModel):
    """One row per ``credits_spend`` idempotency key, charged or refused.

    Replaying a key returns this first outcome: the transaction it created, or the same
    insufficient-credits refusal (with its details), without charging again.
    """

    class Outcome(models.TextChoices):
        CHARGED = "charged", "Charged"
        REFUSED = "refused", "Refused"

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="spend_requests")
    idempotency_key = models.CharField(max_length=255)
    action_type = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    reference = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    transaction = models.OneToOneField(
        CreditTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="spend_request"
    )
    error_details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["wallet", "idempotency_key"], name="credits_spendreq_wallet_key_unique"),
            models.CheckConstraint(
                condition=(Q(outcome="charged") & Q(transaction__isnull=False))
                | (Q(outcome="refused") & Q(transaction__isnull=True)),
                name="credits_spendreq_outcome_matches_tx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key}: {self.outcome}"
