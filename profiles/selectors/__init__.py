"""Reads of the profiles app, by concern.

- ``access``: the one access rule (``profile_viewable_get``, ``Profile.objects.viewable_by``)
  and the cached access reads built on it;
- ``report`` / ``report_types``: the typed report builder and its cache; ``posts``: posts as
  the report and the posts endpoint show them;
- ``completeness``: the one definition of a complete profile;
- ``exports``: a team's exports and the creators an actor may export;
- ``search_fields``: the stored search fields discovery filters on (computed, not stored).

The access rule's names are re-exported here: ``from profiles.selectors import actor_of``.
"""

from profiles.selectors.access import (
    STAFF_ACCESS,
    Actor,
    access_cached,
    access_key,
    access_lapsed_at,
    access_payload,
    accesses_unlocked,
    actor_of,
    creator_not_found,
    profile_can_view,
    profile_viewable_get,
    profiles_viewable,
    unlock_url,
)

__all__ = [
    "STAFF_ACCESS",
    "Actor",
    "access_cached",
    "access_key",
    "access_lapsed_at",
    "access_payload",
    "accesses_unlocked",
    "actor_of",
    "creator_not_found",
    "profile_can_view",
    "profile_viewable_get",
    "profiles_viewable",
    "unlock_url",
]
