"""Refunds of unlocks that delivered nothing (called by ``analysis.services.job_fail``, queued on commit)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from credits import services as credits_services
from credits.models import CreditTransaction, Wallet
from profiles.models import Profile
from profiles.selectors.completeness import profile_completeness
from profiles.services import access as profile_access
from profiles.usernames import username_clean

logger = logging.getLogger(__name__)

UNLOCK_ACTION = "influencer_unlock"


def unlock_reference(username: str) -> str:
    """The ledger reference of an unlock of ``username`` (what the credit gate charges)."""
    return f"profile:{username_clean(username)}"


def _access_holder(wallet: Wallet) -> dict[str, Any]:
    """Whose access a refund from ``wallet`` withdraws (the one place that maps a wallet to it)."""
    return {"team_id": wallet.account_id}  # the wallet of a team account: its id is the team's


def unlocks_refund(*, username: str, since: datetime, reason: str) -> list[CreditTransaction]:
    """Refund every unlock of ``username`` paid since ``since`` and end the access each granted.

    A charge happens only when the action succeeded (PRODUCT.md). An unlock of a creator that
    is not stored yet is charged when its job starts; when that job then fails because the
    account does not exist or is private, nothing was delivered: every unlock paid during the
    job (by anyone who joined it) is refunded, credits and quota uses alike, and the access it
    granted ends. Nothing is refunded while an earlier complete analysis is still served. The
    pipeline calls this (``analysis.services.job_fail``) for the failures that deliver nothing;
    safe to run twice (each spend is refunded at most once, by its own key).
    """
    profile = Profile.objects.filter(username=username_clean(username)).first()
    if profile is not None and profile_completeness(profile=profile).is_complete:
        return []  # an earlier analysis is still served: the unlocks delivered it
    # The refunds and the end of their access commit together: no moment where an unlock is
    # refunded but its access still answers (an unlock then would be "already accessible").
    with transaction.atomic():
        refunds = credits_services.credits_refund_reference(
            action_type=UNLOCK_ACTION, reference=unlock_reference(username), since=since, reason=reason
        )
        if profile is not None:
            for refund in refunds:
                profile_access.access_revoke(**_access_holder(refund.wallet), profile=profile)
    if refunds:
        logger.info("refunded %d unlock(s) of @%s", len(refunds), username)
    return refunds
