"""Teams reads: which team a request acts for, and the cached membership record of a user.

The membership record (``{"default": team_id, "teams": {team_id: role}}``) is what the hot
read paths (the cached report's fast path) need to resolve the active team without a
query; it is dropped whenever one of the user's memberships changes (``teams.signals``), so
a removed member is refused on their very next request.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache

from config.errors import NotFound
from teams.models import Membership, Team

TEAM_HEADER = "X-Team-ID"
MEMBERSHIP_RECORD_SECONDS = 600
_MEMBERSHIPS_KEY = "memberships:v1:{}"


def memberships_key(user_id: Any) -> str:
    return _MEMBERSHIPS_KEY.format(user_id)


def memberships_record_load(user_id: Any) -> dict[str, Any]:
    """The user's teams and default team from the database (cached again)."""
    rows = list(Membership.objects.filter(user_id=user_id).values_list("team_id", "role", "is_default"))
    record = {
        "default": next((str(team_id) for team_id, _, default in rows if default), None)
        or (str(rows[0][0]) if rows else None),
        "teams": {str(team_id): role for team_id, role, _ in rows},
    }
    cache.set(memberships_key(user_id), record, timeout=MEMBERSHIP_RECORD_SECONDS)
    return record


def memberships_record(user_id: Any, cached: Any = None) -> dict[str, Any]:
    """The cached membership record (``cached``: the value a caller already read, None for a miss)."""
    if cached is None:
        cached = cache.get(memberships_key(user_id))
    return cached if cached is not None else memberships_record_load(user_id)


def active_team_id(record: dict[str, Any], requested: str | None) -> str | None:
    """The team a request acts for: the one it names (a member's), else the default; None: not a member."""
    if requested:
        try:
            requested = str(uuid.UUID(str(requested).strip()))
        except ValueError:
            return None
        return requested if requested in record["teams"] else None
    return record["default"]


def membership_active_get(*, user: Any, requested_team_id: str | None) -> Membership:
    """The membership a request acts through: of the team named by ``X-Team-ID``, else the default.

    A team the user does not belong to (or a malformed id) is a 404: it does not exist for them.
    """
    record = memberships_record(user.pk)
    team_id = active_team_id(record, requested_team_id)
    membership = None
    if team_id is not None:
        membership = Membership.objects.select_related("team").filter(user=user, team_id=team_id).first()
    if membership is None and requested_team_id:
        raise NotFound("No such team.", code="team_not_found", details={"team_id": str(requested_team_id)[:64]})
    if membership is None:  # a stale record: read the rows themselves
        membership = (
            Membership.objects.select_related("team").filter(user=user).order_by("-is_default", "joined_at").first()
        )
    if membership is None:
        raise NotFound("You belong to no team.", code="team_not_found")
    return membership


def team_personal_of(*, user: Any) -> Team | None:
    """The user's personal team (created with the account)."""
    return Team.objects.filter(is_personal=True, created_by=user, memberships__user=user).first()


def team_ids_of(*, user: Any) -> list[Any]:
    return list(Membership.objects.filter(user=user).values_list("team_id", flat=True))
