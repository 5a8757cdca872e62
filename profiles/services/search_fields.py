"""Storing a creator's search fields (``profiles.selectors.search_fields``) and search vector."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from profiles.models import Post, Profile
from profiles.selectors.posts import posts_latest
from profiles.selectors.search_fields import search_fields_compute, ts_config


def _vector_update(profile: Profile, posts: list[Post]) -> None:
    captions = "\n".join(post.caption for post in posts if post.caption)
    text = "\n".join(filter(None, [profile.full_name, profile.username, profile.category, profile.biography, captions]))
    config = ts_config(profile.top_language)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE profiles_profile SET search_vector = "
            "setweight(to_tsvector(%s::regconfig, %s), 'A') || setweight(to_tsvector('simple'::regconfig, %s), 'B') "
            "WHERE id = %s",
            [config, text, text, profile.pk],
        )


def profile_search_fields_refresh(*, profile: Profile) -> Profile:
    """Recompute and store the search fields (and the PostgreSQL search vector) of ``profile``."""
    posts = posts_latest(profile)
    snapshots = list(profile.snapshots.order_by("captured_at"))
    fields = search_fields_compute(profile=profile, posts=posts, snapshots=snapshots)
    fields["search_refreshed_at"] = timezone.now()
    for name, value in fields.items():
        setattr(profile, name, value)
    Profile.objects.filter(pk=profile.pk).update(**fields)
    if connection.vendor == "postgresql":
        _vector_update(profile, posts)
    return profile
