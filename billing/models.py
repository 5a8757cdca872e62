"""Billing models: our own record of what Stripe told us, never dj-stripe's tables.

dj-stripe keeps its synced copies of Stripe objects (``djstripe_*`` tables); these models
hold what our reactions decided from them, with the unique keys that make every reaction
happen once:

- ``BillingAccount``: one per team, the team's subscription as last read from Stripe
  (plan, interval, status, period, cancellation, pending change).
- ``TopUpPurchase``: one per top-up Checkout Session; its credits are granted once (the
  session id is unique) and taken back at most up to what a refund covers.
- ``PaidInvoice``: one per subscription invoice that started a cycle (keyed by invoice id).
- ``StripeEventReaction``: one per Stripe event id our receivers acted on.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from config.models import TimeStampedModel


class BillingAccount(TimeStampedModel):
    """The team's subscription as our reactions last read it from Stripe.

    ``status`` follows Stripe's subscription status; ``none`` means never subscribed.
    The team keeps its paid plan while ``active``, ``trialing`` or ``past_due`` (Stripe's
    retry window); ``unpaid``, ``canceled`` and ``incomplete_expired`` mean Free.
    """

    class Status(models.TextChoices):
        NONE = "none", "No subscription"
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Canceled"
        PAUSED = "paused", "Paused"

    class Interval(models.TextChoices):
        MONTH = "month", "Monthly"
        YEAR = "year", "Annual"

    team = models.OneToOneField("teams.Team", on_delete=models.CASCADE, related_name="billing_account")
    stripe_customer_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    subscription_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    plan_code = models.CharField(max_length=32, default="free")
    interval = models.CharField(max_length=8, choices=Interval.choices, blank=True, default="")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.NONE)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    pending_plan_code = models.CharField(max_length=32, blank=True, default="")
    pending_interval = models.CharField(max_length=8, choices=Interval.choices, blank=True, default="")
    pending_effective_at = models.DateTimeField(null=True, blank=True)
    schedule_id = models.CharField(max_length=255, blank=True, default="")
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="billing_account_customer_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.team_id}: {self.plan_code} ({self.status})"


class TopUpPurchase(TimeStampedModel):
    """A top-up bought through Checkout.

    Status transitions: pending -> paid (credits granted once) -> refunded (all or part of
    the credits taken back, never below zero); pending -> expired.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        REFUNDED = "refunded", "Refunded"
        EXPIRED = "expired", "Expired"

    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="topup_purchases")
    checkout_session_id = models.CharField(max_length=255, unique=True)
    package_code = models.CharField(max_length=32)
    credits = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    price_lookup_key = models.CharField(max_length=64)
    payment_intent_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    credit_transaction_id = models.BigIntegerField(null=True, blank=True)
    # Credits a refund asked back so far (what the wallet still held may have been less).
    refund_credits_claimed = models.PositiveIntegerField(default=0)
    refund_credits_taken = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_credits_claimed__lte=F("credits")), name="billing_topup_refund_lte_credits"
            ),
            models.CheckConstraint(
                condition=Q(refund_credits_taken__lte=F("refund_credits_claimed")),
                name="billing_topup_taken_lte_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.package_code} for {self.team_id} ({self.status})"


class PaidInvoice(TimeStampedModel):
    """A subscription invoice whose payment started a cycle (created once per invoice id)."""

    invoice_id = models.CharField(max_length=255, unique=True)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="paid_invoices")
    subscription_id = models.CharField(max_length=255)
    billing_reason = models.CharField(max_length=64)
    plan_code = models.CharField(max_length=32)
    amount_paid_cents = models.PositiveIntegerField(default=0)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()

    class Meta:
        ordering = ["-period_start"]

    def __str__(self) -> str:
        return f"{self.invoice_id} ({self.billing_reason})"


class StripeEventReaction(models.Model):
    """A Stripe event our receivers acted on (the event id is the idempotency key)."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=250)
    team = models.ForeignKey("teams.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    outcome = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}: {self.outcome}"
