"""Who may see a creator's full report: the 30-day unlocks (``UserProfileAccess``).

Staff see everything. The credit gate calls ``access_grant`` in the same transaction as the
charge, so that access and payment happen together or not at all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from profiles.models import Profile, UserProfileAccess

_ACCESS_KEY = "access:v2:{user}:{profile}"
_NO_ACCESS = 0  # cached marker: no access (a miss is None)
_MISSING = object()


def access_key(user_id: Any, profile_id: Any) -> str:
    """The cache key of a user's access to a profile (for callers batching their cache reads)."""
    return _ACCESS_KEY.format(user=user_id, profile=profile_id)


def access_active(*, user: Any, profile: Profile) -> UserProfileAccess | None:
    """The user's unexpired access to ``profile``, or None."""
    return UserProfileAccess.objects.filter(user=user, profile=profile, expires_at__gt=timezone.now()).first()


def access_for(*, user: Any, profile_id: Any) -> UserProfileAccess | None:
    """The user's unexpired access row, if any."""
    return UserProfileAccess.objects.filter(user=user, profile_id=profile_id, expires_at__gt=timezone.now()).first()


def access_cached(*, user_id: Any, profile_id: Any, cached: Any = _MISSING) -> dict[str, Any] | None:
    """The user's unexpired access as the API shows it (``granted_at``, ``expires_at``, ``via``), or None.

    Cached until the access ends (at most ``REPORT_CACHE_SECONDS``) and dropped by
    ``access_grant`` and ``access_revoke``; "no access" is cached for 5 minutes. ``cached``
    is the value already read from ``access_key`` by a caller that batches its cache reads
    (None: a miss).
    """
    if cached is _MISSING:
        cached = cache.get(access_key(user_id, profile_id))
    now = timezone.now()
    if cached is None:
        row = (
            UserProfileAccess.objects.filter(user_id=user_id, profile_id=profile_id)
            .values("granted_at", "expires_at", "granted_via")
            .first()
        )
        if row and row["expires_at"] > now:
            cached = {"granted_at": row["granted_at"], "expires_at": row["expires_at"], "via": row["granted_via"]}
            remaining = (row["expires_at"] - now).total_seconds()
            timeout = min(settings.REPORT_CACHE_SECONDS, int(remaining) + 1)
        else:
            cached, timeout = _NO_ACCESS, 300
        cache.set(access_key(user_id, profile_id), cached, timeout=timeout)
    return cached if cached and cached["expires_at"] > now else None


def access_expiry(*, user: Any, profile_id: Any) -> float | None:
    """When the user's access ends (a timestamp), or None: cached, for the report's fast path."""
    access = access_cached(user_id=user.pk, profile_id=profile_id)
    return access["expires_at"].timestamp() if access else None


def user_can_view(*, user: Any, profile: Profile) -> bool:
    """Staff, or an unexpired unlock."""
    return bool(user.is_staff) or access_expiry(user=user, profile_id=profile.pk) is not None


def access_grant(
    *,
    user: Any,
    profile: Profile,
    granted_via: str = UserProfileAccess.GrantedVia.UNLOCK,
    days: int | None = None,
) -> tuple[UserProfileAccess, bool]:
    """Give ``user`` access to ``profile`` for ``days`` (30 by default).

    Returns ``(access, granted)``; ``granted`` is False when the user already had unexpired
    access (nothing changes, so an unlock of an unlocked creator costs nothing).
    """
    days = days or settings.PROFILE_ACCESS_DAYS
    now = timezone.now()
    with transaction.atomic():
        access = UserProfileAccess.objects.select_for_update().filter(user=user, profile=profile).first()
        if access is not None and access.expires_at > now:
            return access, False
        if access is None:
            try:
                with transaction.atomic():
                    access = UserProfileAccess.objects.create(
                        user=user,
                        profile=profile,
                        granted_at=now,
                        expires_at=now + timedelta(days=days),
                        granted_via=granted_via,
                    )
            except IntegrityError:  # a concurrent grant won: theirs stands
                return UserProfileAccess.objects.get(user=user, profile=profile), False
        else:
            access.granted_at, access.expires_at, access.granted_via = now, now + timedelta(days=days), granted_via
            access.save(update_fields=["granted_at", "expires_at", "granted_via", "updated_at"])
        # Now, for the rest of this request, and again on commit, for a reader that cached
        # "no access" in between.
        cache.delete(access_key(user.pk, profile.pk))
        transaction.on_commit(lambda: cache.delete(access_key(user.pk, profile.pk)))
    return access, True


def access_revoke(*, user: Any, profile: Profile) -> bool:
    """End a user's access now (e.g. the unlock was refunded). True if there was access."""
    deleted, _ = UserProfileAccess.objects.filter(user=user, profile=profile).delete()
    transaction.on_commit(lambda: cache.delete(access_key(user.pk, profile.pk)))
    return bool(deleted)


def accesses_unlocked(*, user: Any) -> QuerySet[UserProfileAccess]:
    """The user's unexpired unlocks, soonest expiry last."""
    return (
        UserProfileAccess.objects.filter(user=user, expires_at__gt=timezone.now())
        .select_related("profile")
        .order_by("-expires_at")
    )
