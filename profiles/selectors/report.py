"""The creator report: five sections built from the database, cached per profile.

``report_build`` is the one builder: it returns the typed ``Report``
(``profiles.selectors.report_types``), which the API renders, the schema documents and the
exports read. ``report_get`` answers from the cache in the common case (one cache read) and
builds with a handful of queries otherwise. The report is cached as its JSON, rendered as the
API renders it, so that the search's fast path can send it as it is (``report_json``). The
body is the same for every user: access is checked before it is read. The cache is dropped
by ``profiles.services.reports`` when a pipeline run ends or a profile is deleted. Cache
failures are cache misses (django-redis ``IGNORE_EXCEPTIONS``), so the report falls back to
the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from config.shapes import from_data, to_data
from profiles import metrics
from profiles.metrics.sponsorship import post_sponsorship
from profiles.models import Post, Profile
from profiles.selectors.completeness import profile_completeness
from profiles.selectors.posts import post_report, post_stats, posts_latest, profile_stats, snapshot_points
from profiles.selectors.report_types import (
    SECTIONS,
    Audience,
    AudienceQuality,
    Content,
    Engagement,
    FollowersPoint,
    FollowingPoint,
    Overview,
    Report,
    SimilarCreator,
    Sponsored,
    SponsoredPost,
    Viral,
    ViralPost,
)

REPORT_FORMAT = 4  # 2: the report cached as JSON bytes; 3: content.similar_creators; 4: typed shape
DEMOGRAPHICS_REASON = (
    "Audience demographics need samples of the creator's followers, which the scraping "
    "provider does not return; they are not estimated from profile-level data."
)


def report_key(profile_id: Any) -> str:
    """The cache key of the report's JSON (for callers batching their cache reads)."""
    return f"report:v{REPORT_FORMAT}:{profile_id}"


def lookup_key(username: str) -> str:
    """The cache key of ``creator_lookup`` (for callers batching their cache reads)."""
    return f"creator:v{REPORT_FORMAT}:{username}"


_renderer = JSONRenderer()


def render_json(data: Any) -> bytes:
    """``data`` as the API's JSON renderer writes a response body (compact, UTF-8)."""
    return _renderer.render(data)


def _overview(profile: Profile) -> Overview:
    return Overview(
        username=profile.username,
        full_name=profile.full_name,
        biography=profile.biography,
        external_url=profile.external_url or None,
        external_urls=list(profile.external_urls or []),
        profile_url=f"https://www.instagram.com/{profile.username}/",
        followers_count=profile.followers_count,
        following_count=profile.following_count,
        posts_count=profile.posts_count,
        is_verified=profile.is_verified,
        is_business=profile.is_business,
        is_private=profile.is_private,
        category=profile.category or None,
        avatar_url=profile.cdn_avatar_url or None,
        last_refreshed_at=profile.last_scraped_at,
        completeness=profile_completeness(profile=profile),
    )


def _audience(profile: Profile, stats: list[metrics.PostStats]) -> Audience:
    snapshots = snapshot_points(profile.snapshots.order_by("captured_at"))
    growth = metrics.growth_report(snapshots, now=timezone.now())
    quality = metrics.audience_quality_estimate(
        profile_stats(profile),
        stats,
    )
    return Audience(
        followers_history=[FollowersPoint(date=p.date, followers=p.followers) for p in growth.series],
        following_history=[FollowingPoint(date=p.date, following=p.following) for p in growth.series],
        growth_7d=growth.growth_7d,
        growth_30d=growth.growth_30d,
        following_followers_ratio=metrics.following_followers_ratio(
            following=profile.following_count, followers=profile.followers_count
        ),
        quality=AudienceQuality(score=quality.score, method=quality.method, signals=list(quality.signals)),
        demographics=None,
        demographics_reason=DEMOGRAPHICS_REASON,
    )


def _engagement(profile: Profile, stats: list[metrics.PostStats], posts: list[Post]) -> Engagement:
    followers = profile.followers_count
    summary = metrics.engagement_stats(stats, followers)
    best = metrics.best_posting_times(stats)
    split = metrics.sponsored_vs_organic(stats, followers)
    viral = metrics.viral_posts(stats)
    return Engagement(
        posts_considered=summary.posts_considered,
        engagement_rate=summary.engagement_rate,
        mean_likes=summary.mean_likes,
        mean_comments=summary.mean_comments,
        median_likes=summary.median_likes,
        median_comments=summary.median_comments,
        mean_engagement=summary.mean_engagement,
        median_engagement=summary.median_engagement,
        comment_to_like_ratio=summary.comment_to_like_ratio,
        video_view_rate=metrics.video_view_rate(stats),
        posts_per_week=metrics.posting_frequency(stats),
        best_weekdays=list(best.weekdays),
        best_hours=list(best.hours),
        sponsored=Sponsored(
            sponsored_posts=split.sponsored_posts,
            organic_posts=split.organic_posts,
            sponsored_engagement_rate=split.sponsored_engagement_rate,
            organic_engagement_rate=split.organic_engagement_rate,
            posts=[
                SponsoredPost(
                    id=posts[i].pk, shortcode=posts[i].shortcode, signals=list(post_sponsorship(stats[i]).signals)
                )
                for i in split.sponsored_indices
            ],
        ),
        viral=None
        if viral is None
        else Viral(
            mean_engagement=viral.mean_engagement,
            std_engagement=viral.std_engagement,
            threshold=viral.threshold,
            posts=[
                ViralPost(
                    id=posts[v.index].pk, shortcode=posts[v.index].shortcode, engagement=v.engagement, sigmas=v.sigmas
                )
                for v in viral.posts
            ],
        ),
    )


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


def _content(profile: Profile, stats: list[metrics.PostStats]) -> Content:
    similar = _similar_creators(profile) if _similar_creators is not None else []
    return Content(
        primary_category=profile.ai_primary_content_type or None,
        category_distribution=dict(profile.ai_content_distribution or {}),
        avg_sentiment=profile.ai_avg_sentiment_score,
        language_distribution=dict(profile.ai_language_distribution or {}),
        quality_score=profile.ai_content_quality_score,
        top_hashtags=list(metrics.top_hashtags(stats)),
        top_mentions=list(metrics.top_mentions(stats)),
        brand_mentions=list(metrics.brand_mentions(stats)),
        analyzed_at=profile.ai_profile_analyzed_at,
        engine=profile.ai_engine or None,
        similar_creators=[from_data(SimilarCreator, item) for item in similar[:SIMILAR_CREATORS_IN_REPORT]],
    )


def report_build(*, profile: Profile) -> Report:
    """A creator's report, from the database."""
    posts = posts_latest(profile)
    stats = [post_stats(post) for post in posts]
    return Report(
        overview=_overview(profile),
        audience=_audience(profile, stats),
        engagement=_engagement(profile, stats, posts),
        content=_content(profile, stats),
        posts=[post_report(post, profile.followers_count) for post in posts],
    )


def report_json(*, profile_id: Any) -> bytes:
    """The full report as the JSON the API sends, from the cache when it is there (24 h)."""
    key = report_key(profile_id)
    body = cache.get(key)
    if body is None:
        body = render_json(to_data(report_build(profile=Profile.objects.get(pk=profile_id))))
        cache.set(key, body, timeout=settings.REPORT_CACHE_SECONDS)
    return body


def report_get(*, profile_id: Any) -> dict[str, Any]:
    """The full report as the API sends it (a dict), from the cache when it is there (24 h)."""
    return json.loads(report_json(profile_id=profile_id))


def report_typed_get(*, profile_id: Any) -> Report:
    """The full report, typed, from the cache when it is there (24 h)."""
    return from_data(Report, report_get(profile_id=profile_id))


def report_sections(report: dict[str, Any], *, posts: bool = True) -> dict[str, Any]:
    """The report data with or without its posts section."""
    return {section: report[section] for section in SECTIONS if posts or section != "posts"}


def creator_lookup(*, username: str) -> dict[str, Any] | None:
    """What the search needs to decide: id, whether the creator is known, preview fields.

    Cached with the report and dropped with it. None when no profile row exists.
    """
    key = lookup_key(username)
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
