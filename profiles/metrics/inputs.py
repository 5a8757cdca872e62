"""Plain inputs of the report metrics and the helpers every metric shares.

The report builder maps ``Post``/``Profile``/``ProfileSnapshot`` rows into these
dataclasses; nothing here knows about Django. Counts are clamped at 0 on construction:
Instagram reports hidden likes as -1 and the normaliser already stores 0, so a negative
value reaching this module means "unknown" and is counted as 0 rather than subtracting.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

# The engagement section looks at the latest 12 posts: one scrape returns 12 posts, and
# a fixed window keeps creators with long histories comparable with new ones.
REPORT_WINDOW = 12

RATE_DECIMALS = 4
MEAN_DECIMALS = 2


def _non_negative(value: int | None) -> int:
    return max(int(value or 0), 0)


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class PostStats:
    """One post as the metrics see it (``type`` is "image", "video" or "carousel")."""

    likes: int
    comments: int
    views: int | None = None
    type: str = "image"
    posted_at: datetime | None = None
    caption: str = ""
    hashtags: Sequence[str] = ()
    mentions: Sequence[str] = ()
    is_sponsored_flag: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "likes", _non_negative(self.likes))
        object.__setattr__(self, "comments", _non_negative(self.comments))
        if self.views is not None:
            object.__setattr__(self, "views", _non_negative(self.views))
        object.__setattr__(self, "caption", self.caption or "")
        object.__setattr__(self, "hashtags", tuple(self.hashtags or ()))
        object.__setattr__(self, "mentions", tuple(self.mentions or ()))

    @property
    def engagement(self) -> int:
        """likes + comments."""
        return self.likes + self.comments

    @property
    def is_video(self) -> bool:
        return (self.type or "").lower() == "video"


@dataclass(frozen=True)
class SnapshotPoint:
    """The counts of a profile at one scrape."""

    captured_at: datetime
    followers: int
    following: int
    posts: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "followers", _non_negative(self.followers))
        object.__setattr__(self, "following", _non_negative(self.following))
        object.__setattr__(self, "posts", _non_negative(self.posts))


@dataclass(frozen=True)
class ProfileStats:
    """The profile-level fields the audience-quality estimate reads."""

    followers: int
    following: int
    is_verified: bool = False
    biography: str = ""
    external_url: str = ""
    external_urls: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "followers", _non_negative(self.followers))
        object.__setattr__(self, "following", _non_negative(self.following))


def latest_posts(posts: Sequence[PostStats], limit: int | None = REPORT_WINDOW) -> list[PostStats]:
    """The ``limit`` most recent posts: ``posted_at`` descending, undated posts last.

    The sort is stable, so posts with equal dates keep their input order. ``limit=None``
    keeps every post.
    """
    ordered = sorted(posts, key=_recency_key)
    return ordered if limit is None else ordered[: max(limit, 0)]


def latest_indices(posts: Sequence[PostStats], limit: int | None = REPORT_WINDOW) -> list[int]:
    """Like ``latest_posts`` but the positions in ``posts`` (so results can point back)."""
    order = sorted(range(len(posts)), key=lambda i: _recency_key(posts[i]))
    return order if limit is None else order[: max(limit, 0)]


def _recency_key(post: PostStats) -> tuple[bool, float]:
    if post.posted_at is None:
        return (True, 0.0)
    return (False, -as_utc(post.posted_at).timestamp())


def rate(numerator: float, denominator: float) -> float | None:
    """numerator / denominator x 100, rounded to 4 decimals; None when denominator <= 0."""
    if denominator <= 0:
        return None
    return round(numerator / denominator * 100, RATE_DECIMALS)


def median_or_none(values: Sequence[float], decimals: int = MEAN_DECIMALS) -> float | None:
    return round(statistics.median(values), decimals) if values else None


def mean_or_none(values: Sequence[float], decimals: int = MEAN_DECIMALS) -> float | None:
    return round(statistics.fmean(values), decimals) if values else None
