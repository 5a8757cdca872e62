"""Which account a discovery request acts for: the active team (``TeamScopedMixin``).

The active team pays (its wallet), owns the unlocks and sees the revealed emails; the mixin
sets ``request.account_id`` (the team's id) from ``X-Team-ID`` or the user's default team.
"""

from __future__ import annotations

from typing import Any


def active_account_id(request: Any) -> Any:
    """The id of the team the request acts for."""
    return request.account_id
