"""The credit gate: one way for a view to declare the paid action it performs.

Usage on a DRF view method (APIView method or ViewSet ``@action``)::

    from credits.gate import requires_credits

    class UnlockView(APIView):
        @requires_credits(
            "influencer_unlock",
            reference=lambda request, *args, **kwargs: f"profile:{kwargs['profile_id']}",
            skip_if=lambda request, *args, **kwargs: access_is_active(request.user, kwargs["profile_id"]),
        )
        def post(self, request, profile_id):
            grant_access(request.user, profile_id)        # the action itself
            return Response({"unlocked": True}, status=201)

What the gate does, in one database transaction (``transaction.atomic``):

1. locks the wallet row of the request's account (``request.account_id``: the active team,
   set by the view's tenancy mixin) (``credits.services.wallet_lock``), so that two concurrent
   gated calls of one team run one after the other; the second one then sees what the
   first committed (``skip_if`` true, or the same derived idempotency key) and pays nothing;
2. if ``skip_if(request, *args, **kwargs)`` is true the action is free: the view runs and
   nothing is charged (unlocking a creator the user can already access);
3. otherwise checks affordability with ``credits_quote`` and answers 402
   ``insufficient_credits`` (details: action_type, quantity, price, balance, missing)
   *before* the view runs;
4. runs the view; a non-2xx response rolls back whatever the view wrote and charges nothing;
5. on 2xx charges with ``credits_spend`` in the same transaction: if the charge fails the
   view's writes are rolled back as well (access and charge commit together);
6. adds ``"credits": {"charged", "buckets", "balance", "replayed", "skipped"}`` to the
   response body (which must be a dict).

The idempotency key is the request's ``Idempotency-Key`` header (namespaced per action),
else the reference; either way within the billing cycle, after the refunds of that reference
and after the ``renewal`` mark: a retried or doubled unlock within a cycle is charged once,
and a client's header never makes a later purchase free. ``reference``, ``quantity`` and
``renewal`` may be callables of ``(request, *args, **kwargs)``; ``quantity`` may also be an
int. Refusals by the gate are not recorded under the key, so a client may retry after
topping up. A view whose paid effect can lapse within a cycle (30-day access in a 31-day
cycle) passes ``renewal``: what changes when it has lapsed (the end of the earlier access),
so that buying it again is a new purchase and not a replay of the first one.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import transaction
from rest_framework.exceptions import NotAuthenticated

from credits.errors import InsufficientCredits
from credits.models import CreditTransaction, SpendRequest
from credits.selectors import credits_quote
from credits.services import credits_spend, wallet_lock

IDEMPOTENCY_HEADER = "Idempotency-Key"


def gate_idempotency_key(
    *,
    action_type: str,
    reference: str,
    cycle_start: Any,
    header: str | None = None,
    refunds: int = 0,
    renewal: str = "",
) -> str:
    """The spend key of a gated call: (action, the client's header else the reference, cycle).

    ``refunds`` counts the refunded spends of that action and reference in the cycle: once a
    charge was given back (the action delivered nothing), doing the action again is a new
    purchase with a key of its own, not a replay of the refunded one. ``renewal`` marks a
    paid effect that lapsed (the end of an earlier 30-day access): buying it again is new too.
    The header only names a client's retries of one purchase: it is scoped by the same three,
    so re-sending it after a lapse, a refund or in a later cycle charges again.
    """
    if header:
        ident = "hdr:" + hashlib.sha256(header.encode()).hexdigest()[:40]
    else:
        ident = hashlib.sha256(reference.encode()).hexdigest()[:40]
    key = f"gate:{action_type}:{ident}:{cycle_start:%Y%m%dT%H%M%S}"
    if renewal:
        key += ":n" + hashlib.sha256(renewal.encode()).hexdigest()[:16]
    return f"{key}:r{refunds}" if refunds else key


def _resolve(value: Any, request: Any, args: tuple, kwargs: dict) -> Any:
    return value(request, *args, **kwargs) if callable(value) else value


def requires_credits(
    action_type: str,
    *,
    reference: Callable[..., str] | str,
    quantity: Callable[..., int] | int = 1,
    skip_if: Callable[..., bool] | None = None,
    renewal: Callable[..., str] | str = "",
) -> Callable:
    """Decorate a DRF view method so that it is charged ``action_type`` only when it succeeds."""

    def decorator(view_method: Callable) -> Callable:
        @functools.wraps(view_method)
        def wrapped(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            user = request.user
            if not user or not user.is_authenticated:
                raise NotAuthenticated()
            # The active team's id, set by the tenancy mixin of the view (teams.api.mixins).
            account_id = getattr(request, "account_id", None)
            if account_id is None:
                raise TypeError(f"{type(self).__name__} is gated but does not resolve an account (team).")
            ref = str(_resolve(reference, request, args, kwargs))
            qty = int(_resolve(quantity, request, args, kwargs))
            with transaction.atomic():
                wallet = wallet_lock(account_id=account_id)
                if skip_if is not None and skip_if(request, *args, **kwargs):
                    response = view_method(self, request, *args, **kwargs)
                    if not 200 <= response.status_code < 300:
                        transaction.set_rollback(True)
                        return response
                    _attach(response, charged=0, buckets=[], balance=wallet.balance, replayed=False, skipped=True)
                    return response
                key = gate_idempotency_key(
                    action_type=action_type,
                    reference=ref,
                    cycle_start=wallet.cycle_start,
                    header=request.headers.get(IDEMPOTENCY_HEADER),
                    renewal=str(_resolve(renewal, request, args, kwargs) or ""),
                    refunds=CreditTransaction.objects.filter(
                        wallet=wallet,
                        kind=CreditTransaction.Kind.REFUND,
                        action_type=action_type,
                        reference=ref,
                        cycle_start=wallet.cycle_start,
                    ).count(),
                )
                paid_before = SpendRequest.objects.filter(
                    wallet=wallet, idempotency_key=key, outcome=SpendRequest.Outcome.CHARGED
                ).exists()
                if not paid_before:
                    quote = credits_quote(account_id=account_id, action_type=action_type, quantity=qty)
                    if not quote.allowed:
                        details = {
                            "action_type": action_type,
                            "quantity": qty,
                            "price": quote.price,
                            "balance": quote.balance,
                            "missing": quote.missing,
                        }
                        message = "Not enough credits."
                        if quote.allowances_withheld:  # say why a new team's first unlock is not free
                            details["free_allowances"] = False
                            message += (
                                " This team has no Free allowances (they come once per person, with the"
                                " personal team): add credits or choose a paid plan."
                            )
                        raise InsufficientCredits(message, details=details)
                response = view_method(self, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    transaction.set_rollback(True)
                    return response
                outcome = credits_spend(
                    account_id=account_id,
                    actor=user,
                    action_type=action_type,
                    quantity=qty,
                    reference=ref,
                    idempotency_key=key,
                )
                _attach(
                    response,
                    charged=0 if outcome.replayed else outcome.charged,
                    buckets=[] if outcome.replayed else outcome.buckets,
                    balance=outcome.balance_after if not outcome.replayed else wallet_balance_now(wallet),
                    replayed=outcome.replayed,
                    skipped=False,
                )
                return response

        wrapped.requires_credits = action_type  # type: ignore[attr-defined]
        return wrapped

    return decorator


def wallet_balance_now(wallet: Any) -> int:
    wallet.refresh_from_db(fields=["balance"])
    return wallet.balance


def _attach(response: Any, **credits: Any) -> None:
    if isinstance(getattr(response, "data", None), dict):
        response.data["credits"] = credits
