"""Plain inputs of the report metrics and the helpers every metric shares.

The report builder maps ``Post``/``Profile``/``ProfileSnapshot`` rows into these
dataclasses; nothing here knows about Django. A post's likes and comments may be unknown
(None: hidden by the creator, or missing from the export; a negative value, Instagram's -1
for hidden likes, means the same). A post whose likes or comments are unknown has no
engagement, and every metric leaves it out rather than counting it as 0, which would drag
averages and rates down; a metric with no post left is None.
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


def _known_count(value: int | None) -> int | None:
    """The count, or None when it is unknown (None or negative)."""
    return None if value is None or int(value) < 0 else int(value)


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class PostStats:
    """One post as the metrics see it (``type`` is "image", "video" or "carousel")."""

    likes: int | None
    comments: int | None
    views: int | None = None
    type: str = "image"
    posted_at: datetime | None = None
    caption: str = ""
    hashtags: Sequence[str] = ()
    mentions: Sequence[str] = ()
    is_sponsored_flag: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "likes", _known_count(self.likes))
        object.__setattr__(self, "comments", _known_count(self.comments))
        object.__setattr__(self, "views", _known_count(self.views))
        object.__setattr__(self, "caption", self.caption or "")
        object.__setattr__(self, "hashtags", tuple(self.hashtags or ()))
        object.__setattr__(self, "mentions", tuple(self.mentions or ()))

    @property
    def engagement(self) -> int | None:
        """likes + comments; None when either is unknown."""
        if self.likes is None or self.comments is None:
            return None
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


def with_engagement(posts: Sequence[PostStats]) -> list[PostStats]:
    """The posts whose engagement is known, in the same order."""
    return [post for post in posts if post.engagement is not None]


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
