"""Access writes: a team's 30-day unlocks (``TeamProfileAccess``) granted and revoked.

The credit gate calls ``access_grant`` in the same transaction as the charge, so that access
and payment happen together or not at all. Who may see what is decided by the one access
rule in ``profiles.selectors`` (``profile_viewable_get`` / ``Profile.objects.viewable_by``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from profiles.models import Profile, TeamProfileAccess
from profiles.selectors.access import access_key


def _drop_cached(team_id: Any, profile_id: Any) -> None:
    # Now, for the rest of this request, and again on commit, for a reader that cached
    # "no access" (or the old access) in between.
    key = access_key(team_id, profile_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def access_grant(
    *,
    team: Any,
    profile: Profile,
    granted_by: Any = None,
    granted_via: str = TeamProfileAccess.GrantedVia.UNLOCK,
    days: int | None = None,
) -> tuple[TeamProfileAccess, bool]:
    """Give ``team`` access to ``profile`` for ``days`` (30 by default); ``granted_by`` is the member.

    Returns ``(access, granted)``; ``granted`` is False when the team already had unexpired
    access (nothing changes, so unlocking what the team already has costs nothing).
    """
    days = days or settings.PROFILE_ACCESS_DAYS
    now = timezone.now()
    with transaction.atomic():
        access = TeamProfileAccess.objects.select_for_update().filter(team=team, profile=profile).first()
        if access is not None and access.expires_at > now:
            return access, False
        if access is None:
            try:
                with transaction.atomic():
                    access = TeamProfileAccess.objects.create(
                        team=team,
                        profile=profile,
                        granted_by=granted_by,
                        granted_at=now,
                        expires_at=now + timedelta(days=days),
                        granted_via=granted_via,
                    )
            except IntegrityError:  # a concurrent grant won: theirs stands
                return TeamProfileAccess.objects.get(team=team, profile=profile), False
        else:
            access.granted_at, access.expires_at = now, now + timedelta(days=days)
            access.granted_via, access.granted_by = granted_via, granted_by
            access.save(update_fields=["granted_at", "expires_at", "granted_via", "granted_by", "updated_at"])
        _drop_cached(team.pk, profile.pk)
    return access, True


def access_revoke(*, team_id: Any, profile: Profile) -> bool:
    """End a team's access now (e.g. the unlock was refunded). True if there was access."""
    deleted, _ = TeamProfileAccess.objects.filter(team_id=team_id, profile=profile).delete()
    _drop_cached(team_id, profile.pk)
    return bool(deleted)
