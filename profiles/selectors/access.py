"""Who may see a creator: the one access rule, and the cached access reads built on it.

The rule: staff see every creator; anyone else sees a creator whose report their **active
team** has unlocked (an unexpired ``TeamProfileAccess``). It lives here, twice over for the
two shapes callers need, and nowhere else:

- ``profile_viewable_get(actor=, username=)`` -> the ``Profile`` or a 404 (unknown) / 403
  (locked) domain error, for views of one creator;
- ``Profile.objects.viewable_by(actor)`` for querysets (exports, lists).

Access is cached per team and creator (``access_cached``), dropped by ``profiles.services.access``
whenever a grant or revoke changes it; the cached report's fast path reads the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import NotFound, PermissionDenied
from profiles.models import Profile, TeamProfileAccess
from profiles.selectors.report import creator_lookup
from profiles.usernames import username_clean

_ACCESS_KEY = "access:v3:{team}:{profile}"
_NO_ACCESS = 0  # cached marker: no access (a miss is None)
_MISSING = object()
STAFF_ACCESS = {"granted_at": None, "expires_at": None, "via": "staff"}


@dataclass(frozen=True)
class Actor:
    """Who is asking: the user, the team they act for, and whether they are staff."""

    user_id: Any
    team_id: Any
    is_staff: bool = False


def actor_of(request: Any) -> Actor:
    """The actor of an API request whose view resolved the active team (``teams.api.mixins``)."""
    return Actor(user_id=request.user.pk, team_id=request.account_id, is_staff=bool(request.user.is_staff))


def unlock_url(username: str) -> str:
    return f"/api/v1/search/creator/{username}/unlock"


def creator_not_found(username: str, job_id: Any = None) -> NotFound:
    details: dict[str, Any] = {"username": username, "unlock_url": unlock_url(username)}
    if job_id is not None:
        details["job_id"] = str(job_id)
    return NotFound(
        f"@{username} has not been analysed yet. Request it with POST {unlock_url(username)}.",
        code="creator_not_found",
        details=details,
    )


def access_key(team_id: Any, profile_id: Any) -> str:
    """The cache key of a team's access to a profile (for callers batching their cache reads)."""
    return _ACCESS_KEY.format(team=team_id, profile=profile_id)


def access_cached(*, team_id: Any, profile_id: Any, cached: Any = _MISSING) -> dict[str, Any] | None:
    """The team's unexpired access as the API shows it (``granted_at``, ``expires_at``, ``via``), or None.

    Cached until the access ends (at most ``REPORT_CACHE_SECONDS``); "no access" is cached for
    5 minutes. ``cached`` is the value already read from ``access_key`` by a caller that
    batches its cache reads (None: a miss).
    """
    if cached is _MISSING:
        cached = cache.get(access_key(team_id, profile_id))
    now = timezone.now()
    if cached is None:
        row = (
            TeamProfileAccess.objects.filter(team_id=team_id, profile_id=profile_id)
            .values("granted_at", "expires_at", "granted_via")
            .first()
        )
        if row and row["expires_at"] > now:
            cached = {"granted_at": row["granted_at"], "expires_at": row["expires_at"], "via": row["granted_via"]}
            remaining = (row["expires_at"] - now).total_seconds()
            timeout = min(settings.REPORT_CACHE_SECONDS, int(remaining) + 1)
        else:
            cached, timeout = _NO_ACCESS, 300
        cache.set(access_key(team_id, profile_id), cached, timeout=timeout)
    return cached if cached and cached["expires_at"] > now else None


def access_lapsed_at(*, team_id: Any, username: str) -> Any:
    """When the team's access to the creator ended, if it had one that has ended (else None)."""
    return (
        TeamProfileAccess.objects.filter(
            team_id=team_id, profile__username=username_clean(username), expires_at__lte=timezone.now()
        )
        .values_list("expires_at", flat=True)
        .first()
    )


def access_payload(*, actor: Actor, profile_id: Any, cached: Any = _MISSING) -> dict[str, Any] | None:
    """The access the actor sees a creator through (the team's unlock, else staff), or None: locked."""
    access = access_cached(team_id=actor.team_id, profile_id=profile_id, cached=cached)
    if access is None and actor.is_staff:
        return dict(STAFF_ACCESS)
    return access


def profile_can_view(*, actor: Actor, profile_id: Any) -> bool:
    """The access rule for a known creator id (cached)."""
    return access_payload(actor=actor, profile_id=profile_id) is not None


def profile_viewable_get(*, actor: Actor, username: str) -> Profile:
    """The profile behind ``username`` if ``actor`` may see its report (404 unknown, 403 locked)."""
    username = username_clean(username)
    found = creator_lookup(username=username)
    if found is None or not found["known"]:
        raise creator_not_found(username)
    if not profile_can_view(actor=actor, profile_id=found["id"]):
        raise PermissionDenied(
            f"Unlock @{username} to see its report.",
            code="creator_locked",
            details={"unlock_url": unlock_url(username)},
        )
    return Profile.objects.get(pk=found["id"])


def profiles_viewable(*, actor: Actor, usernames: list[str]) -> QuerySet[Profile]:
    """The named creators the actor may see (the queryset form of the rule)."""
    return Profile.objects.viewable_by(actor).filter(username__in=usernames)


def accesses_unlocked(*, team_id: Any) -> QuerySet[TeamProfileAccess]:
    """The team's unexpired unlocks, soonest expiry last."""
    return (
        TeamProfileAccess.objects.filter(team_id=team_id, expires_at__gt=timezone.now())
        .select_related("profile", "granted_by")
        .order_by("-expires_at")
    )
