"""Which account a discovery request acts for: the one place that answers it.

The active team pays (its wallet), owns the unlocks and sees the revealed emails. Until the
teams change reaches this code, the account is the user (``account_id`` = the user's id,
wallets per user); with teams it is ``request.account_id`` (set by ``TeamScopedMixin``).
"""

from __future__ import annotations

from typing import Any


def active_account_id(request: Any) -> Any:
    """The id of the account the request acts for (the team's id with teams, else the user's)."""
    return getattr(request, "account_id", None) or request.user.pk


def wallet_owner(request: Any) -> Any:
    """What ``credits`` selectors take to find the paying wallet."""
    return request.user
