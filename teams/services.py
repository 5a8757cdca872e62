"""Teams writes: creating teams (the personal one with every account), the default team.

The team is the account that owns the wallet (``credits`` knows it as ``account_id``), the
unlocks, the jobs and the exports; its members act for it.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from config.errors import NotFound, ValidationFailed
from credits.services import wallet_get_or_create
from teams.models import Membership, Team
from teams.selectors import memberships_key, team_personal_of

TEAM_NAME_MAX = 120


def memberships_invalidate(user_id: Any) -> None:
    """Drop the user's cached membership record now and again on commit (see ``teams.selectors``)."""
    key = memberships_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _slug_for(name: str) -> str:
    base = slugify(name)[:100] or "team"
    return f"{base}-{secrets.token_hex(4)}"


def _clean_name(name: Any) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationFailed("A team needs a name.", code="invalid", details={"name": ["This field is required."]})
    if len(name) > TEAM_NAME_MAX:
        raise ValidationFailed("The team name is too long.", details={"name": [f"At most {TEAM_NAME_MAX} characters."]})
    return name


def team_create(*, user: Any, name: str, personal: bool = False) -> Team:
    """A new team owned by ``user``, with its wallet (Free plan). The user's first team is their default."""
    name = _clean_name(name)
    with transaction.atomic():
        team = Team.objects.create(name=name, slug=_slug_for(name), created_by=user, is_personal=personal)
        first = not Membership.objects.filter(user=user).exists()
        Membership.objects.create(team=team, user=user, role=Membership.Role.OWNER, is_default=first)
        wallet_get_or_create(account_id=team.id)
        memberships_invalidate(user.pk)
    return team


def team_personal_ensure(*, user: Any) -> Team:
    """The user's personal team, created (as their default) when they have none: no user is without a team."""
    team = team_personal_of(user=user)
    if team is not None:
        return team
    label = (getattr(user, "full_name", "") or "").strip() or user.email.split("@")[0]
    try:
        with transaction.atomic():
            return team_create(user=user, name=f"{label}'s team"[:TEAM_NAME_MAX], personal=True)
    except IntegrityError:  # a concurrent request created it (one default per user)
        team = team_personal_of(user=user)
        if team is None:
            raise
        return team


def membership_default_set(*, user: Any, team_id: Any) -> Membership:
    """Make one of the user's teams their default (404 when they are not a member)."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user=user, team_id=team_id).first()
        if membership is None:
            raise NotFound("No such team.", code="team_not_found", details={"team_id": str(team_id)})
        Membership.objects.filter(user=user, is_default=True).exclude(pk=membership.pk).update(is_default=False)
        if not membership.is_default:
            membership.is_default = True
            membership.save(update_fields=["is_default", "updated_at"])
        memberships_invalidate(user.pk)
    return membership


def team_flag_for_staff(*, team: Team, reason: str) -> Team:
    """Flag the team for staff review (a payment dispute); the first reason is kept."""
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        if not locked.flagged_for_staff:
            locked.flagged_for_staff = True
            locked.flagged_reason = reason[:255]
            locked.save(update_fields=["flagged_for_staff", "flagged_reason", "updated_at"])
    team.flagged_for_staff, team.flagged_reason = locked.flagged_for_staff, locked.flagged_reason
    return locked
