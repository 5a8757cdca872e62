"""The creator report: five sections built from the database, cached per profile.

``report_get`` answers from the cache in the common case (one cache read) and builds with a
handful of queries otherwise. The report is cached as its JSON, rendered as the API renders
it, so that the search's fast path can send it as it is (``report_json``). The body is the
same for every user: access is checked before it is read. ``report_invalidate`` is called
when a pipeline run ends and drops the report, the posts pages and the lookup of the
profile; deleting a profile drops its report and lookup too (``profile_deleted``). Cache
failures are cache misses (django-redis ``IGNORE_EXCEPTIONS``), so the report falls back to
the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from profiles import metrics
from profiles.completeness import profile_completeness
from profiles.metrics.sponsorship import post_sponsorship
from profiles.models import Post, Profile

REPORT_FORMAT = 3  # 2: the report cached as JSON bytes; 3: content.similar_creators
SECTIONS = ("overview", "audience", "engagement", "content", "posts")
DEMOGRAPHICS_REASON = (
    "Audience demographics need samples of the creator's followers, which the scraping "
    "provider does not return; they are not estimated from profile-level data."
)


def _report_key(profile_id: Any) -> str:
    return f"report:v{REPORT_FORMAT}:{profile_id}"


def report_key(profile_id: Any) -> str:
    """The cache key of the report's JSON (for callers batching their cache reads)."""
    return _report_key(profile_id)


def _lookup_key(username: str) -> str:
    return f"creator:v{REPORT_FORMAT}:{username}"


def lookup_key(username: str) -> str:
    """The cache key of ``creator_lookup`` (for callers batching their cache reads)."""
    return _lookup_key(username)


_renderer = JSONRenderer()


def render_json(data: Any) -> bytes:
    """``data`` as the API's JSON renderer writes a response body (compact, UTF-8)."""
    return _renderer.render(data)


def _posts_version_key(profile_id: Any) -> str:
    return f"posts-version:{profile_id}"


def post_stats(post: Post) -> metrics.PostStats:
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


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def post_payload(post: Post, followers: int) -> dict[str, Any]:
    stats = post_stats(post)
    return {
        "id": str(post.pk),
        "instagram_post_id": post.instagram_post_id,
        "shortcode": post.shortcode,
        "url": post.url,
        "type": post.type,
        "caption": post.caption,
        "hashtags": post.hashtags,
        "mentions": post.mentions,
        "likes_count": post.likes_count,
        "comments_count": post.comments_count,
        "video_view_count": post.video_view_count,
        "posted_at": _iso(post.posted_at),
        "thumbnail_url": post.cdn_thumbnail_url or None,
        "engagement_rate": metrics.post_engagement_rate(stats, followers),
        "view_rate": metrics.post_view_rate(stats),
        "is_sponsored": post_sponsorship(stats).is_sponsored,
        "ai": {
            "category": post.ai_content_category or None,
            "category_confidence": post.ai_category_confidence,
            "sentiment": post.ai_sentiment or None,
            "sentiment_score": post.ai_sentiment_score,
            "sentiment_confidence": post.ai_sentiment_confidence,
            "language": post.ai_language_code or None,
            "language_confidence": post.ai_language_confidence,
            "analyzed_at": _iso(post.ai_analyzed_at),
        },
    }


def _overview(profile: Profile) -> dict[str, Any]:
    return {
        "username": profile.username,
        "full_name": profile.full_name,
        "biography": profile.biography,
        "external_url": profile.external_url or None,
        "external_urls": profile.external_urls,
        "profile_url": f"https://www.instagram.com/{profile.username}/",
        "followers_count": profile.followers_count,
        "following_count": profile.following_count,
        "posts_count": profile.posts_count,
        "is_verified": profile.is_verified,
        "is_business": profile.is_business,
        "is_private": profile.is_private,
        "category": profile.category or None,
        "avatar_url": profile.cdn_avatar_url or None,
        "last_refreshed_at": _iso(profile.last_scraped_at),
        "completeness": profile_completeness(profile=profile).to_dict(),
    }


def _audience(profile: Profile, stats: list[metrics.PostStats]) -> dict[str, Any]:
    snapshots = [
        metrics.SnapshotPoint(
            captured_at=s.captured_at, followers=s.followers_count, following=s.following_count, posts=s.posts_count
        )
        for s in profile.snapshots.order_by("captured_at")
    ]
    growth = metrics.growth_report(snapshots, now=timezone.now())
    quality = metrics.audience_quality_estimate(
        metrics.ProfileStats(
            followers=profile.followers_count,
            following=profile.following_count,
            is_verified=profile.is_verified,
            biography=profile.biography,
            external_url=profile.external_url,
            external_urls=tuple(profile.external_urls or ()),
        ),
        stats,
    )
    return {
        "followers_history": [{"date": p.date.isoformat(), "followers": p.followers} for p in growth.series],
        "following_history": [{"date": p.date.isoformat(), "following": p.following} for p in growth.series],
        "growth_7d": _growth(growth.growth_7d),
        "growth_30d": _growth(growth.growth_30d),
        "following_followers_ratio": metrics.following_followers_ratio(
            following=profile.following_count, followers=profile.followers_count
        ),
        "quality": {"score": quality.score, "method": quality.method, "signals": [asdict(s) for s in quality.signals]},
        "demographics": None,
        "demographics_reason": DEMOGRAPHICS_REASON,
    }


def _growth(growth: Any) -> dict[str, Any] | None:
    if growth is None:
        return None
    data = asdict(growth)
    data["since"], data["until"] = _iso(growth.since), _iso(growth.until)
    return data


def _engagement(profile: Profile, stats: list[metrics.PostStats], posts: list[Post]) -> dict[str, Any]:
    followers = profile.followers_count
    summary = metrics.engagement_stats(stats, followers)
    best = metrics.best_posting_times(stats)
    split = metrics.sponsored_vs_organic(stats, followers)
    viral = metrics.viral_posts(stats)
    return {
        **asdict(summary),
        "video_view_rate": metrics.video_view_rate(stats),
        "posts_per_week": metrics.posting_frequency(stats),
        "best_weekdays": [asdict(slot) for slot in best.weekdays],
        "best_hours": [asdict(slot) for slot in best.hours],
        "sponsored": {
            "sponsored_posts": split.sponsored_posts,
            "organic_posts": split.organic_posts,
            "sponsored_engagement_rate": split.sponsored_engagement_rate,
            "organic_engagement_rate": split.organic_engagement_rate,
            "posts": [
                {
                    "id": str(posts[i].pk),
                    "shortcode": posts[i].shortcode,
                    "signals": list(post_sponsorship(stats[i]).signals),
                }
                for i in split.sponsored_indices
            ],
        },
        "viral": None
        if viral is None
        else {
            "mean_engagement": viral.mean_engagement,
            "std_engagement": viral.std_engagement,
            "threshold": viral.threshold,
            "posts": [
                {
                    "id": str(posts[v.index].pk),
                    "shortcode": posts[v.index].shortcode,
                    "engagement": v.engagement,
                    "sigmas": v.sigmas,
                }
                for v in viral.posts
            ],
        },
    }


# "Similar creators" come from the lookalike search, which lives in a layer above this one
# (analysis): that layer registers its function here at start-up (``AnalysisConfig.ready``)
# instead of profiles importing it. Without one the list is empty.
SimilarCreators = Callable[[Profile], list[dict[str, Any]]]
SIMILAR_CREATORS_IN_REPORT = 5
_similar_creators: SimilarCreators | None = None


def similar_creators_source_set(source: SimilarCreators | None) -> None:
    """Register the function that lists a creator's similar creators for the content section."""
    global _similar_creators
    _similar_creators = source


def _content(profile: Profile, stats: list[metrics.PostStats]) -> dict[str, Any]:
    similar = _similar_creators(profile) if _similar_creators is not None else []
    return {
        "primary_category": profile.ai_primary_content_type or None,
        "category_distribution": profile.ai_content_distribution,
        "avg_sentiment": profile.ai_avg_sentiment_score,
        "language_distribution": profile.ai_language_distribution,
        "quality_score": profile.ai_content_quality_score,
        "top_hashtags": [asdict(t) for t in metrics.top_hashtags(stats)],
        "top_mentions": [asdict(t) for t in metrics.top_mentions(stats)],
        "brand_mentions": [asdict(b) for b in metrics.brand_mentions(stats)],
        "analyzed_at": _iso(profile.ai_profile_analyzed_at),
        "engine": profile.ai_engine or None,
        "similar_creators": similar[:SIMILAR_CREATORS_IN_REPORT],
    }


def _latest_posts(profile: Profile) -> list[Post]:
    # Posts without a date sort last, as in the metrics' own window.
    return list(profile.posts.order_by(F("posted_at").desc(nulls_last=True), "instagram_post_id")[:12])


def report_build(*, profile: Profile, include_posts: bool = True) -> dict[str, Any]:
    """The five sections of a creator's report, from the database."""
    posts = _latest_posts(profile)
    stats = [post_stats(post) for post in posts]
    report = {
        "overview": _overview(profile),
        "audience": _audience(profile, stats),
        "engagement": _engagement(profile, stats, posts),
        "content": _content(profile, stats),
    }
    if include_posts:
        report["posts"] = [post_payload(post, profile.followers_count) for post in posts]
    return report


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


def report_json(*, profile_id: Any) -> bytes:
    """The full report as the JSON the API sends, from the cache when it is there (24 h)."""
    key = _report_key(profile_id)
    body = cache.get(key)
    if body is None:
        body = render_json(report_build(profile=Profile.objects.get(pk=profile_id)))
        cache.set(key, body, timeout=settings.REPORT_CACHE_SECONDS)
    return body


def report_get(*, profile_id: Any) -> dict[str, Any]:
    """The full report (a dict), from the cache when it is there (24 h)."""
    return json.loads(report_json(profile_id=profile_id))


def creator_lookup(*, username: str) -> dict[str, Any] | None:
    """What the search needs to decide: id, whether the creator is known, preview fields.

    Cached with the report and dropped with it. None when no profile row exists.
    """
    key = _lookup_key(username)
    found = cache.get(key)
    if found is None:
        profile = Profile.objects.filter(username=username).first()
        if profile is None:
            return None
        found = {
            "id": str(profile.pk),
            "known": profile.last_scraped_at is not None,
            "complete": profile_completeness(profile=profile).is_complete,
            "preview": {
                "username": profile.username,
                "full_name": profile.full_name,
                "avatar_url": profile.cdn_avatar_url or None,
                "followers_count": profile.followers_count,
                "posts_count": profile.posts_count,
                "is_verified": profile.is_verified,
                "category": profile.category or profile.ai_primary_content_type or None,
            },
        }
        cache.set(key, found, timeout=settings.REPORT_CACHE_SECONDS)
    return found


def posts_cache_version(*, profile_id: Any) -> int:
    return cache.get_or_set(_posts_version_key(profile_id), 1, timeout=None) or 1


def report_invalidate(*, profile: Profile) -> None:
    """Drop the cached report, lookup and posts pages of ``profile``."""
    cache.delete_many([_report_key(profile.pk), _lookup_key(profile.username)])
    try:
        cache.incr(_posts_version_key(profile.pk))
    except ValueError:  # no version yet: nothing cached
        pass


@receiver(post_delete, sender=Profile, dispatch_uid="profiles.report.profile_deleted")
def profile_deleted(sender: Any, instance: Profile, **kwargs: Any) -> None:
    """A deleted profile's lookup must not outlive it: a new profile of the same name has a new id."""
    cache.delete_many([_report_key(instance.pk), _lookup_key(instance.username)])
