"""Every number of the creator report, as pure functions over plain inputs.

No Django here: the report builder maps ``Post``, ``Profile`` and ``ProfileSnapshot``
rows into ``PostStats``, ``ProfileStats`` and ``SnapshotPoint`` and calls these
functions. They are deterministic, never divide by zero, and return None where a value
is undefined. The formulas are restated in the README ("Report formulas").
"""

from profiles.metrics.audience import (
    AudienceQuality,
    QualitySignal,
    audience_quality_estimate,
    benchmark_engagement_rate,
    posting_consistency,
)
from profiles.metrics.content import (
    BrandMention,
    TagCount,
    brand_mentions,
    looks_like_brand,
    post_hashtags,
    post_mentions,
    top_hashtags,
    top_mentions,
)
from profiles.metrics.engagement import (
    BestTimes,
    EngagementStats,
    SponsoredSplit,
    TimeSlot,
    ViralPost,
    ViralReport,
    best_posting_times,
    engagement_rate,
    engagement_stats,
    post_engagement_rate,
    post_view_rate,
    posting_frequency,
    sponsored_vs_organic,
    video_view_rate,
    viral_posts,
)
from profiles.metrics.growth import (
    Growth,
    GrowthReport,
    SeriesPoint,
    follower_series,
    following_followers_ratio,
    growth_over,
    growth_report,
)
from profiles.metrics.inputs import REPORT_WINDOW, PostStats, ProfileStats, SnapshotPoint, latest_posts
from profiles.metrics.sponsorship import Sponsorship, detect_sponsorship, post_sponsorship

__all__ = [
    "REPORT_WINDOW",
    "AudienceQuality",
    "BestTimes",
    "BrandMention",
    "EngagementStats",
    "Growth",
    "GrowthReport",
    "PostStats",
    "ProfileStats",
    "QualitySignal",
    "SeriesPoint",
    "SnapshotPoint",
    "SponsoredSplit",
    "Sponsorship",
    "TagCount",
    "TimeSlot",
    "ViralPost",
    "ViralReport",
    "audience_quality_estimate",
    "benchmark_engagement_rate",
    "best_posting_times",
    "brand_mentions",
    "detect_sponsorship",
    "engagement_rate",
    "engagement_stats",
    "follower_series",
    "following_followers_ratio",
    "growth_over",
    "growth_report",
    "latest_posts",
    "looks_like_brand",
    "post_engagement_rate",
    "post_hashtags",
    "post_mentions",
    "post_sponsorship",
    "post_view_rate",
    "posting_consistency",
    "posting_frequency",
    "sponsored_vs_organic",
    "top_hashtags",
    "top_mentions",
    "video_view_rate",
    "viral_posts",
]
