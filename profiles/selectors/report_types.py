"""The creator report's shape, described once.

``profiles.selectors.report.report_build`` returns a ``Report``; the API sends
``config.shapes.to_data(report)`` (cached as JSON), the OpenAPI schema documents the
serializers derived from these classes (``config.api.shapes.serializer_for``, in
``profiles.api.serializers``), and the export columns (``profiles.export_formats``) read
the typed fields. A field added here is built, documented and exportable in one change; a
field renamed here fails the builder, the schema tests and the export columns together.

Leaf types of ``profiles.metrics`` (``TimeSlot``, ``TagCount``, ``BrandMention``,
``QualitySignal``, ``Growth``) are used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from config.shapes import described
from profiles.metrics.audience import QualitySignal
from profiles.metrics.content import BrandMention, TagCount
from profiles.metrics.engagement import TimeSlot
from profiles.metrics.growth import Growth
from profiles.models import Post
from profiles.selectors.completeness import Completeness

# --- overview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    username: str
    full_name: str
    biography: str
    external_url: str | None
    external_urls: list[Any]
    profile_url: str = described(url=True)
    followers_count: int = described()
    following_count: int = described()
    posts_count: int | None = described("null: unknown (not in the export).")
    is_verified: bool = described()
    is_business: bool = described()
    is_private: bool = described()
    category: str | None = described()
    avatar_url: str | None = described("CDN copy of the profile picture (WebP).", url=True)
    last_refreshed_at: datetime | None = described()
    completeness: Completeness = described()


# --- audience -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowersPoint:
    date: date
    followers: int


@dataclass(frozen=True)
class FollowingPoint:
    date: date
    following: int


@dataclass(frozen=True)
class AudienceQuality:
    score: int = described("0-100, an estimate from profile-level signals.")
    method: str = described()
    signals: list[QualitySignal] = described()


@dataclass(frozen=True)
class Audience:
    followers_history: list[FollowersPoint]
    following_history: list[FollowingPoint]
    growth_7d: Growth | None
    growth_30d: Growth | None
    following_followers_ratio: float | None
    quality: AudienceQuality
    demographics: Any = described("Always null: needs follower samples.")
    demographics_reason: str = described()


# --- engagement -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SponsoredPost:
    id: UUID
    shortcode: str
    signals: list[str]


@dataclass(frozen=True)
class Sponsored:
    sponsored_posts: int
    organic_posts: int
    sponsored_engagement_rate: float | None
    organic_engagement_rate: float | None
    posts: list[SponsoredPost]


@dataclass(frozen=True)
class ViralPost:
    id: UUID
    shortcode: str
    engagement: int
    sigmas: float


@dataclass(frozen=True)
class Viral:
    mean_engagement: float
    std_engagement: float
    threshold: float
    posts: list[ViralPost]


@dataclass(frozen=True)
class Engagement:
    posts_considered: int
    engagement_rate: float | None = described(
        "Median over the latest 12 posts of (likes + comments) / followers x 100."
    )
    mean_likes: float | None = described()
    mean_comments: float | None = described()
    median_likes: float | None = described()
    median_comments: float | None = described()
    mean_engagement: float | None = described()
    median_engagement: float | None = described()
    comment_to_like_ratio: float | None = described(
        "Sum of comments / sum of likes over the same posts; null without likes."
    )
    video_view_rate: float | None = described("(likes + comments) / views x 100, videos.")
    posts_per_week: float | None = described()
    best_weekdays: list[TimeSlot] = described()
    best_hours: list[TimeSlot] = described()
    sponsored: Sponsored = described()
    viral: Viral | None = described()


# --- content --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarCreator:
    username: str
    full_name: str
    avatar_url: str | None = described(url=True)
    followers_count: int = described()
    primary_category: str | None = described()
    similarity: float = described("cosine similarity of the creators' embeddings, -1..1")


@dataclass(frozen=True)
class Content:
    primary_category: str | None
    category_distribution: dict[str, float]
    avg_sentiment: float | None = described("-1..1")
    language_distribution: dict[str, float] = described()
    quality_score: float | None = described("0..1")
    top_hashtags: list[TagCount] = described()
    top_mentions: list[TagCount] = described()
    brand_mentions: list[BrandMention] = described()
    analyzed_at: datetime | None = described()
    engine: str | None = described()
    similar_creators: list[SimilarCreator] = described(
        "The 5 most similar analysed creators (lookalike search), best first."
    )


# --- posts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostAI:
    category: str | None
    category_confidence: float | None
    sentiment: str | None = described(choices=Post.Sentiment.values)
    sentiment_score: float | None = described()
    sentiment_confidence: float | None = described()
    language: str | None = described()
    language_confidence: float | None = described()
    analyzed_at: datetime | None = described()


@dataclass(frozen=True)
class ReportPost:
    id: UUID
    instagram_post_id: str
    shortcode: str
    url: str
    type: str = described(choices=Post.Type.values)
    caption: str = described()
    hashtags: list[str] = described()
    mentions: list[str] = described()
    likes_count: int | None = described("null: unknown (hidden, or not in the export).")
    comments_count: int | None = described("null: unknown.")
    video_view_count: int | None = described()
    posted_at: datetime | None = described()
    thumbnail_url: str | None = described(url=True)
    engagement_rate: float | None = described()
    view_rate: float | None = described()
    is_sponsored: bool = described()
    ai: PostAI = described()


# --- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """A creator's report: five sections built from the database."""

    overview: Overview
    audience: Audience
    engagement: Engagement
    content: Content
    posts: list[ReportPost]


SECTIONS = ("overview", "audience", "engagement", "content", "posts")
