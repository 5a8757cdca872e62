"""Profile completeness: the one definition (PRODUCT.md), used by every part of the product.

A profile is COMPLETE when all hold:

1. ``followers_count > 0`` and ``posts_count > 0`` (when ``posts_count`` is unknown, an
   export without it: at least one post is stored)
2. a biography exists
3. 12 or more posts are stored (or all of its posts, when it has fewer than 12; when
   ``posts_count`` is unknown, the posts the provider returned are all we can have, so a
   creator is complete on what it has)
4. as many posts have AI analysis (category, sentiment and language set)
5. ``ai_profile_analyzed_at`` is set
6. as many posts have CDN thumbnails

The counts are computed in the database (``profiles_annotate_completeness``) so that the
admin column, its filter, the repair scan and the API agree and cost one query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, Least

from config.shapes import to_data
from profiles.models import Profile

REQUIRED_POSTS = 12

_ANALYSED = (
    Q(posts__ai_analyzed_at__isnull=False)
    & ~Q(posts__ai_content_category="")
    & ~Q(posts__ai_sentiment="")
    & ~Q(posts__ai_language_code="")
)


@dataclass(frozen=True)
class Completeness:
    is_complete: bool
    criteria: dict[str, bool]
    missing: list[str]
    required_posts: int
    posts_stored: int
    posts_analysed: int
    posts_thumbnails: int

    def to_dict(self) -> dict:
        return to_data(self)


def profiles_annotate_completeness(queryset: QuerySet[Profile] | None = None) -> QuerySet[Profile]:
    """Annotate ``posts_stored``, ``posts_analysed``, ``posts_thumbnails`` and ``required_posts``."""
    queryset = Profile.objects.all() if queryset is None else queryset
    return queryset.annotate(
        posts_stored=Count("posts", distinct=True),
        posts_analysed=Count("posts", filter=_ANALYSED, distinct=True),
        posts_thumbnails=Count("posts", filter=~Q(posts__cdn_thumbnail_url=""), distinct=True),
        required_posts=Least(Coalesce("posts_count", "posts_stored"), REQUIRED_POSTS),
    )


def complete_q() -> Q:
    """A filter for annotated querysets: the same six criteria, in SQL."""
    return (
        Q(followers_count__gt=0, ai_profile_analyzed_at__isnull=False)
        & (Q(posts_count__gt=0) | Q(posts_count__isnull=True, posts_stored__gt=0))
        & ~Q(biography="")
        & Q(posts_stored__gte=F("required_posts"))
        & Q(posts_analysed__gte=F("required_posts"))
        & Q(posts_thumbnails__gte=F("required_posts"))
    )


def completeness_from_annotated(profile: Profile) -> Completeness:
    """Completeness of a profile annotated by ``profiles_annotate_completeness``."""
    required = max(int(profile.required_posts or 0), 0)
    criteria = {
        "counts": profile.followers_count > 0
        and (profile.posts_count > 0 if profile.posts_count is not None else profile.posts_stored > 0),
        "biography": bool(profile.biography),  # same test as complete_q()
        "posts_stored": profile.posts_stored >= required,
        "posts_analysed": profile.posts_analysed >= required,
        "profile_analysed": profile.ai_profile_analyzed_at is not None,
        "posts_thumbnails": profile.posts_thumbnails >= required,
    }
    missing = [name for name, ok in criteria.items() if not ok]
    return Completeness(
        is_complete=not missing,
        criteria=criteria,
        required_posts=required,
        posts_stored=profile.posts_stored,
        posts_analysed=profile.posts_analysed,
        posts_thumbnails=profile.posts_thumbnails,
        missing=missing,
    )


def profile_completeness(*, profile: Profile) -> Completeness:
    """The completeness of one profile (one query)."""
    annotated = profiles_annotate_completeness(Profile.objects.filter(pk=profile.pk)).get()
    return completeness_from_annotated(annotated)


def profiles_incomplete(queryset: QuerySet[Profile] | None = None) -> list[tuple[Profile, Completeness]]:
    """Every incomplete profile of ``queryset`` with what it misses (one query)."""
    result = []
    for profile in profiles_annotate_completeness(queryset).order_by("username"):
        completeness = completeness_from_annotated(profile)
        if not completeness.is_complete:
            result.append((profile, completeness))
    return result
