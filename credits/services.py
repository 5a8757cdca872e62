"""Credits services: the only code that changes balances, quotas or the ledger.

Every function is one database transaction that locks the wallet row
(``select_for_update``) before reading what it changes, so concurrent calls on one wallet
run one after another and the balance can never be spent twice. Every movement appends one
``CreditTransaction`` with the balance before and after. Idempotency keys are unique per
wallet across all kinds of movement: the same key returns the first outcome (a refused
spend is replayed as the same refusal) and a key reused for a different operation is a 409.
The balance cache is deleted after each commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from config.errors import NotFound
from credits.cycles import cycle_bounds
from credits.errors import AlreadyRefunded, IdempotencyConflict, InsufficientCredits, InvalidAmount
from credits.models import CreditTransaction, Plan, QuotaUsage, SpendRequest, Wallet
from credits.selectors import (
    BUCKET_CREDITS,
    BUCKET_FREE,
    BUCKET_PLAN,
    allowance_for,
    balance_cache_key,
    credits_quote,
    plan_free,
    pricing_rule_get,
    split_units,
    validate_quantity,
)

__all__ = [
    "SpendOutcome",
    "credits_grant",
    "credits_quote",
    "credits_refund",
    "credits_spend",
    "credits_take_back",
    "cycle_renew",
    "wallet_adjust",
    "wallet_get_or_create",
    "wallet_lock",
    "wallet_set_plan",
    "wallets_renew_due",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpendOutcome:
    """What a spend did: ``buckets[i]`` paid unit ``i``; ``charged`` credits left the wallet.

    Every successful spend has a ledger row (``transaction_id``), also when quota or free
    uses paid for it (an amount of 0): the row is what explains the use.
    """

    action_type: str
    quantity: int
    charged: int
    buckets: list[str]
    balance_after: int
    transaction_id: int | None
    replayed: bool = False
    reference: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "action_type": self.action_type,
            "quantity": self.quantity,
            "charged": self.charged,
            "buckets": self.buckets,
            "balance": self.balance_after,
            "transaction_id": self.transaction_id,
            "replayed": self.replayed,
        }


def _invalidate_balance(account_id: Any) -> None:
    transaction.on_commit(lambda: cache.delete(balance_cache_key(account_id)))


def _new_wallet(*, account_id: Any, now: datetime, free_allowances: bool = True) -> Wallet:
    start, end = cycle_bounds(anchor=now, now=now)
    return Wallet(
        account_id=account_id,
        plan=plan_free(),
        cycle_anchor=now,
        cycle_start=start,
        cycle_end=end,
        free_allowances=free_allowances,
    )


def wallet_get_or_create(*, account_id: Any, free_allowances: bool = True) -> tuple[Wallet, bool]:
    """The account's wallet (Free plan, zero balance, a cycle starting now when new).

    ``free_allowances`` (a new wallet only): whether the Free plan's monthly allowances apply
    to it (``credits.selectors.free_allowances_withheld``).
    """
    wallet = Wallet.objects.select_related("plan").filter(account_id=account_id).first()
    if wallet is not None:
        return wallet, False
    try:
        with transaction.atomic():
            wallet = _new_wallet(account_id=account_id, now=timezone.now(), free_allowances=free_allowances)
            wallet.save()
            return wallet, True
    except IntegrityError:
        # Another request created it between our read and our insert.
        return Wallet.objects.select_related("plan").get(account_id=account_id), False


def _renew_locked(wallet: Wallet, now: datetime) -> bool:
    if now < wallet.cycle_end:
        return False
    start, end = cycle_bounds(anchor=wallet.cycle_anchor, now=now)
    Wallet.objects.filter(pk=wallet.pk).update(cycle_start=start, cycle_end=end, updated_at=now)
    wallet.cycle_start, wallet.cycle_end = start, end
    _invalidate_balance(wallet.account_id)
    logger.info("credits: wallet %s renewed to cycle %s", wallet.pk, start.isoformat())
    return True


def wallet_lock(*, account_id: Any, now: datetime | None = None) -> Wallet:
    """Lock the account's wallet row until the surrounding transaction ends; renew a due cycle.

    Must be called inside ``transaction.atomic`` (the credit gate and every service do).
    """
    wallet_get_or_create(account_id=account_id)
    wallet = Wallet.objects.select_for_update().select_related("plan").get(account_id=account_id)
    _renew_locked(wallet, now or timezone.now())
    return wallet


def _append(wallet: Wallet, *, kind: str, amount: int, idempotency_key: str, **fields: Any) -> CreditTransaction:
    """Append a ledger row and move the wallet's balance and lifetime totals by ``amount``."""
    before = wallet.balance
    after = before + amount
    tx = CreditTransaction.objects.create(
        wallet=wallet,
        kind=kind,
        amount=amount,
        balance_before=before,
        balance_after=after,
        idempotency_key=idempotency_key,
        **fields,
    )
    earned = amount if amount > 0 and kind != CreditTransaction.Kind.REFUND else 0
    spent = -amount if amount < 0 else (-amount if kind == CreditTransaction.Kind.REFUND else 0)
    Wallet.objects.filter(pk=wallet.pk).update(
        balance=F("balance") + amount,
        lifetime_earned=F("lifetime_earned") + earned,
        lifetime_spent=F("lifetime_spent") + spent,
        updated_at=timezone.now(),
    )
    wallet.balance = after
    wallet.lifetime_earned += earned
    wallet.lifetime_spent += spent
    _invalidate_balance(wallet.account_id)
    return tx


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 255:
        raise InvalidAmount("An idempotency key of 1 to 255 characters is required.", code="invalid_idempotency_key")
    return key


def _outcome_from_tx(tx: CreditTransaction, *, replayed: bool) -> SpendOutcome:
    return SpendOutcome(
        action_type=tx.action_type,
        quantity=tx.quantity,
        charged=-tx.amount,
        buckets=list(tx.buckets),
        balance_after=tx.balance_after,
        transaction_id=tx.pk,
        replayed=replayed,
        reference=tx.reference,
    )


def _replay_spend(request: SpendRequest, *, action_type: str, quantity: int, reference: str) -> SpendOutcome:
    if (request.action_type, request.quantity, request.reference) != (action_type, quantity, reference):
        raise IdempotencyConflict(
            "This idempotency key was used for a different spend.",
            details={"idempotency_key": request.idempotency_key},
        )
    if request.outcome == SpendRequest.Outcome.REFUSED:
        raise InsufficientCredits("Not enough credits.", details={**request.error_details, "replayed": True})
    return _outcome_from_tx(request.transaction, replayed=True)


def credits_spend(
    *,
    account_id: Any,
    actor: Any = None,
    action_type: str,
    quantity: int = 1,
    reference: str,
    idempotency_key: str,
    now: datetime | None = None,
) -> SpendOutcome:
    """Pay for ``quantity`` units of ``action_type``: free uses, then plan quota, then credits.

    ``actor`` is the member acting for the account (kept on the ledger row).

    Raises ``InsufficientCredits`` (402) when the credits part is more than the balance;
    the refusal is recorded under the key and replayed as is. ``UnknownAction`` (404) for
    an unknown or inactive action.
    """
    validate_quantity(quantity)
    key = _check_key(idempotency_key)
    rule = pricing_rule_get(action_type=action_type)
    refusal: dict[str, Any] | None = None
    with transaction.atomic():
        wallet = wallet_lock(account_id=account_id, now=now)
        existing = SpendRequest.objects.select_related("transaction").filter(wallet=wallet, idempotency_key=key).first()
        if existing is not None:
            outcome = _replay_spend(existing, action_type=action_type, quantity=quantity, reference=reference)
        elif CreditTransaction.objects.filter(wallet=wallet, idempotency_key=key).exists():
            raise IdempotencyConflict(
                "This idempotency key was used for another movement.", details={"idempotency_key": key}
            )
        else:
            allowance = allowance_for(wallet=wallet, plan=wallet.plan, rule=rule, cycle_start=wallet.cycle_start)
            buckets = split_units(quantity=quantity, free_left=allowance.free_left, plan_left=allowance.plan_left)
            price = buckets.count(BUCKET_CREDITS) * rule.credits_per_unit
            if price > wallet.balance:
                refusal = {
                    "action_type": action_type,
                    "quantity": quantity,
                    "price": price,
                    "balance": wallet.balance,
                    "missing": price - wallet.balance,
                }
                SpendRequest.objects.create(
                    wallet=wallet,
                    idempotency_key=key,
                    action_type=action_type,
                    quantity=quantity,
                    reference=reference,
                    outcome=SpendRequest.Outcome.REFUSED,
                    error_details=refusal,
                )
                outcome = None
            else:
                free, plan_units = buckets.count(BUCKET_FREE), buckets.count(BUCKET_PLAN)
                if free or plan_units:
                    usage, _ = QuotaUsage.objects.get_or_create(
                        wallet=wallet, cycle_start=wallet.cycle_start, action_type=action_type
                    )
                    QuotaUsage.objects.filter(pk=usage.pk).update(
                        free_used=F("free_used") + free, plan_used=F("plan_used") + plan_units
                    )
                tx = _append(
                    wallet,
                    kind=CreditTransaction.Kind.SPEND,
                    amount=-price,
                    idempotency_key=key,
                    action_type=action_type,
                    quantity=quantity,
                    reference=reference,
                    buckets=buckets,
                    cycle_start=wallet.cycle_start,
                    actor=actor,
                )
                SpendRequest.objects.create(
                    wallet=wallet,
                    idempotency_key=key,
                    action_type=action_type,
                    quantity=quantity,
                    reference=reference,
                    outcome=SpendRequest.Outcome.CHARGED,
                    transaction=tx,
                )
                outcome = _outcome_from_tx(tx, replayed=False)
    # Raised after the commit so that the refusal stays recorded for replays.
    if refusal is not None:
        raise InsufficientCredits("Not enough credits.", details=refusal)
    return outcome


def credits_refund(
    *,
    account_id: Any,
    spend_idempotency_key: str | None = None,
    transaction_id: int | None = None,
    reason: str,
    idempotency_key: str,
) -> CreditTransaction:
    """Give back what a spend took: its credits, and its quota uses if its cycle is current.

    A spend is refunded at most once (409 ``already_refunded``); replaying the refund's own
    key returns the first refund.
    """
    key = _check_key(idempotency_key)
    if not reason or not reason.strip():
        raise InvalidAmount("A reason is required for a refund.", code="reason_required")
    with transaction.atomic():
        wallet = wallet_lock(account_id=account_id)
        existing = CreditTransaction.objects.filter(wallet=wallet, idempotency_key=key).first()
        if existing is not None:
            if existing.kind != CreditTransaction.Kind.REFUND:
                raise IdempotencyConflict("This idempotency key was used for another movement.")
            return existing
        spends = CreditTransaction.objects.filter(wallet=wallet, kind=CreditTransaction.Kind.SPEND)
        if transaction_id is not None:
            spend = spends.filter(pk=transaction_id).first()
        else:
            spend = spends.filter(idempotency_key=spend_idempotency_key or "").first()
        if spend is None:
            raise NotFound("No such spend in this wallet.", code="spend_not_found")
        if CreditTransaction.objects.filter(refund_of=spend).exists():
            raise AlreadyRefunded("This spend was already refunded.", details={"transaction_id": spend.pk})
        buckets = list(spend.buckets)
        if spend.cycle_start == wallet.cycle_start:
            free, plan_units = buckets.count(BUCKET_FREE), buckets.count(BUCKET_PLAN)
            if free or plan_units:
                QuotaUsage.objects.filter(
                    wallet=wallet, cycle_start=wallet.cycle_start, action_type=spend.action_type
                ).update(free_used=F("free_used") - free, plan_used=F("plan_used") - plan_units)
        else:
            # That cycle's quota is gone; only the credits part comes back.
            buckets = [b for b in buckets if b == BUCKET_CREDITS]
        return _append(
            wallet,
            kind=CreditTransaction.Kind.REFUND,
            amount=-spend.amount,
            idempotency_key=key,
            action_type=spend.action_type,
            quantity=spend.quantity,
            reference=spend.reference,
            buckets=buckets,
            cycle_start=spend.cycle_start,
            refund_of=spend,
            reason=reason.strip(),
            actor=spend.actor,
        )


def credits_refund_reference(
    *, action_type: str, reference: str, since: datetime, reason: str
) -> list[CreditTransaction]:
    """Refund, in every wallet, the spends of ``action_type`` on ``reference`` made since ``since``.

    For actions that turned out to deliver nothing (an unlock of a creator that does not
    exist). Each spend is refunded at most once, by its own key, so a second call refunds
    nothing more; the refunds are returned.
    """
    spends = CreditTransaction.objects.filter(
        kind=CreditTransaction.Kind.SPEND,
        action_type=action_type,
        reference=reference,
        created_at__gte=since,
        refunded_by__isnull=True,
    ).select_related("wallet")
    refunds = []
    for spend in spends:
        try:
            refunds.append(
                credits_refund(
                    account_id=spend.wallet.account_id,
                    transaction_id=spend.pk,
                    reason=reason,
                    idempotency_key=f"refund:{spend.pk}",
                )
            )
        except AlreadyRefunded:
            continue  # a concurrent call refunded it first
    return refunds


def credits_grant(
    *, account_id: Any, amount: int, reason: str, idempotency_key: str, actor: Any | None = None, reference: str = ""
) -> CreditTransaction:
    """Add credits (a top-up, a promotion). The same key returns the first grant."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount("A grant must be a positive number of credits.", details={"amount": amount})
    key = _check_key(idempotency_key)
    with transaction.atomic():
        wallet = wallet_lock(account_id=account_id)
        existing = CreditTransaction.objects.filter(wallet=wallet, idempotency_key=key).first()
        if existing is not None:
            if existing.kind != CreditTransaction.Kind.EARN or existing.amount != amount:
                raise IdempotencyConflict("This idempotency key was used for another movement.")
            return existing
        return _append(
            wallet,
            kind=CreditTransaction.Kind.EARN,
            amount=amount,
            idempotency_key=key,
            reason=reason,
            reference=reference,
            actor=actor,
        )


def wallet_adjust(
    *, wallet: Wallet, amount: int, reason: str, actor: Any, idempotency_key: str | None = None
) -> CreditTransaction:
    """A staff correction (positive or negative) with a required reason; never below zero."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise InvalidAmount("An adjustment must be a non-zero whole number of credits.", details={"amount": amount})
    if not reason or not reason.strip():
        raise InvalidAmount("A reason is required for an adjustment.", code="reason_required")
    key = _check_key(idempotency_key) if idempotency_key else f"adjust:{uuid.uuid4()}"
    with transaction.atomic():
        locked = Wallet.objects.select_for_update().get(pk=wallet.pk)
        existing = CreditTransaction.objects.filter(wallet=locked, idempotency_key=key).first()
        if existing is not None:
            if existing.kind != CreditTransaction.Kind.ADJUSTMENT or existing.amount != amount:
                raise IdempotencyConflict("This idempotency key was used for another movement.")
            return existing
        if locked.balance + amount < 0:
            raise InvalidAmount(
                "An adjustment cannot take the balance below zero.",
                code="balance_below_zero",
                details={"balance": locked.balance, "amount": amount},
            )
        tx = _append(
            locked,
            kind=CreditTransaction.Kind.ADJUSTMENT,
            amount=amount,
            idempotency_key=key,
            reason=reason.strip(),
            actor=actor,
        )
    wallet.refresh_from_db()
    return tx


def cycle_renew(*, wallet: Wallet, now: datetime | None = None) -> bool:
    """Start the wallet's next billing cycle if the current one has ended (quotas restart).

    Idempotent per cycle: once renewed, calling again in the same cycle does nothing.
    Credits in the wallet do not expire.
    """
    with transaction.atomic():
        locked = Wallet.objects.select_for_update().get(pk=wallet.pk)
        renewed = _renew_locked(locked, now or timezone.now())
    wallet.cycle_start, wallet.cycle_end = locked.cycle_start, locked.cycle_end
    return renewed


def wallets_renew_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Renew every wallet whose cycle has ended; returns how many were renewed."""
    now = now or timezone.now()
    renewed = 0
    while True:
        # Each renewal moves cycle_end past ``now``, so every batch is new wallets.
        batch = list(Wallet.objects.filter(cycle_end__lte=now).order_by("cycle_end")[:limit])
        renewed += sum(cycle_renew(wallet=wallet, now=now) for wallet in batch)
        if len(batch) < limit:
            return renewed


def wallet_set_plan(*, account_id: Any, plan_code: str, cycle_anchor: datetime | None = None) -> Wallet:
    """Move the account's wallet to another plan (used by billing and staff tools).

    ``cycle_anchor`` (billing: the start of the paid Stripe period) re-anchors the cycles:
    the cycle containing now is counted from it, so quotas restart when it differs from the
    current cycle and stay as they are when it is the same (a repeated or late invoice, or
    the beat task having renewed to the same start already, never resets twice).
    """
    plan = Plan.objects.get(code=plan_code)
    with transaction.atomic():
        wallet = wallet_lock(account_id=account_id)
        fields: dict[str, Any] = {"plan": plan, "updated_at": timezone.now()}
        if cycle_anchor is not None:
            start, end = cycle_bounds(anchor=cycle_anchor, now=max(timezone.now(), cycle_anchor))
            fields.update(cycle_anchor=cycle_anchor, cycle_start=start, cycle_end=end)
            wallet.cycle_anchor, wallet.cycle_start, wallet.cycle_end = cycle_anchor, start, end
        Wallet.objects.filter(pk=wallet.pk).update(**fields)
        _invalidate_balance(wallet.account_id)
    wallet.plan = plan
    return wallet


def credits_take_back(
    *, account_id: Any, amount: int, reason: str, idempotency_key: str, reference: str = "", actor: Any | None = None
) -> CreditTransaction | None:
    """Take back up to ``amount`` credits (a refunded purchase): what is left, never below zero.

    One adjustment row naming the reason and reference; ``None`` when the wallet is empty.
    The same key returns the first row.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount("Credits to take back must be a positive number.", details={"amount": amount})
    key = _check_key(idempotency_key)
    with transaction.atomic():
        wallet = wallet_lock(account_id=account_id)
        existing = CreditTransaction.objects.filter(wallet=wallet, idempotency_key=key).first()
        if existing is not None:
            return existing
        taken = min(amount, wallet.balance)
        if taken == 0:
            return None
        return _append(
            wallet,
            kind=CreditTransaction.Kind.ADJUSTMENT,
            amount=-taken,
            idempotency_key=key,
            reason=reason,
            reference=reference,
            actor=actor,
        )
