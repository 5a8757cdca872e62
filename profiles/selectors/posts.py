"""A creator's posts as the report and the posts endpoint show them."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import F, QuerySet

from profiles import metrics
from profiles.metrics.sponsorship import post_sponsorship
from profiles.models import Post, Profile
from profiles.selectors.report_types import PostAI, ReportPost

# Unknown values (an undated post, hidden likes) sort last in both directions.
POST_ORDERING = {
    "date": F("posted_at").asc(nulls_last=True),
    "-date": F("posted_at").desc(nulls_last=True),
    "likes": F("likes_count").asc(nulls_last=True),
    "-likes": F("likes_count").desc(nulls_last=True),
    "comments": F("comments_count").asc(nulls_last=True),
    "-comments": F("comments_count").desc(nulls_last=True),
    "engagement": F("engagement").asc(nulls_last=True),
    "-engagement": F("engagement").desc(nulls_last=True),
}


def post_stats(post: Post) -> metrics.PostStats:
    """A stored post as the metrics' input."""
    return metrics.PostStats(
        likes=post.likes_count,
        comments=post.comments_count,
        views=post.video_view_count,
        type=post.type,
        posted_at=post.posted_at,
        caption=post.caption,
        hashtags=post.hashtags,
        mentions=post.mentions,
        is_sponsored_flag=post.is_sponsored,
    )


def profile_stats(profile: Profile) -> metrics.ProfileStats:
    """A stored profile as the metrics' input."""
    return metrics.ProfileStats(
        followers=profile.followers_count,
        following=profile.following_count,
        is_verified=profile.is_verified,
        biography=profile.biography,
        external_url=profile.external_url,
        external_urls=tuple(profile.external_urls or ()),
    )


def snapshot_points(snapshots: Any) -> list[metrics.SnapshotPoint]:
    """Stored snapshots (oldest first) as the metrics' input."""
    return [
        metrics.SnapshotPoint(
            captured_at=s.captured_at, followers=s.followers_count, following=s.following_count, posts=s.posts_count
        )
        for s in snapshots
    ]


def post_report(post: Post, followers: int) -> ReportPost:
    """A post of the report (and of the posts endpoint), with its figures and AI fields."""
    stats = post_stats(post)
    return ReportPost(
        id=post.pk,
        instagram_post_id=post.instagram_post_id,
        shortcode=post.shortcode,
        url=post.url,
        type=post.type,
        caption=post.caption,
        hashtags=list(post.hashtags),
        mentions=list(post.mentions),
        likes_count=post.likes_count,
        comments_count=post.comments_count,
        video_view_count=post.video_view_count,
        posted_at=post.posted_at,
        thumbnail_url=post.cdn_thumbnail_url or None,
        engagement_rate=metrics.post_engagement_rate(stats, followers),
        view_rate=metrics.post_view_rate(stats),
        is_sponsored=post_sponsorship(stats).is_sponsored,
        ai=PostAI(
            category=post.ai_content_category or None,
            category_confidence=post.ai_category_confidence,
            sentiment=post.ai_sentiment or None,
            sentiment_score=post.ai_sentiment_score,
            sentiment_confidence=post.ai_sentiment_confidence,
            language=post.ai_language_code or None,
            language_confidence=post.ai_language_confidence,
            analyzed_at=post.ai_analyzed_at,
        ),
    )


def posts_latest(profile: Profile, limit: int = metrics.REPORT_WINDOW) -> list[Post]:
    """The creator's latest posts (undated posts last, as in the metrics' own window)."""
    return list(profile.posts.order_by(F("posted_at").desc(nulls_last=True), "instagram_post_id")[:limit])


def posts_filtered(
    *,
    profile: Profile,
    category: str | None = None,
    sentiment: str | None = None,
    language: str | None = None,
    type: str | None = None,
    posted_after: Any = None,
    posted_before: Any = None,
    ordering: str = "-date",
) -> QuerySet[Post]:
    """A creator's posts filtered and ordered for the posts endpoint (engagement = likes + comments)."""
    posts = profile.posts.annotate(engagement=F("likes_count") + F("comments_count"))
    if category:
        posts = posts.filter(ai_content_category__iexact=category)
    if sentiment:
        posts = posts.filter(ai_sentiment=sentiment)
    if language:
        posts = posts.filter(ai_language_code__iexact=language)
    if type:
        posts = posts.filter(type=type)
    if posted_after:
        posts = posts.filter(posted_at__gte=posted_after)
    if posted_before:
        posts = posts.filter(posted_at__lte=posted_before)
    return posts.order_by(POST_ORDERING[ordering], "instagram_post_id")


def posts_version_key(profile_id: Any) -> str:
    """The cache key of the version that the cached posts pages of a creator carry."""
    return f"posts-version:{profile_id}"


def posts_cache_version(*, profile_id: Any) -> int:
    return cache.get_or_set(posts_version_key(profile_id), 1, timeout=None) or 1
