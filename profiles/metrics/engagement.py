"""Engagement metrics: rate, means and medians, video view rate, posting frequency,
best posting times, sponsored vs organic and viral posts.

Unless a function says otherwise it looks at the latest ``limit`` posts (default 12,
``REPORT_WINDOW``; ``limit=None`` means every post given), ordered by ``posted_at``
descending with undated posts last. Percentages are rounded to 4 decimals, means and
medians of counts to 2. Posts whose likes or comments are unknown stay in the window (it is
about recency) but are left out of every figure that needs them (``inputs.with_engagement``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from profiles.metrics.inputs import (
    MEAN_DECIMALS,
    RATE_DECIMALS,
    REPORT_WINDOW,
    PostStats,
    as_utc,
    latest_indices,
    latest_posts,
    mean_or_none,
    median_or_none,
    rate,
    with_engagement,
)
from profiles.metrics.sponsorship import post_sponsorship

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
VIRAL_MIN_POSTS = 3
VIRAL_SIGMAS = 2


def post_engagement_rate(post: PostStats, followers: int) -> float | None:
    """(likes + comments) / followers x 100; None when followers <= 0 or engagement is unknown."""
    return None if post.engagement is None else rate(post.engagement, followers)


def post_view_rate(post: PostStats) -> float | None:
    """(likes + comments) / views x 100 for a video with views > 0, else None."""
    if not post.is_video or not post.views or post.engagement is None:
        return None
    return rate(post.engagement, post.views)


def engagement_rate(posts: Sequence[PostStats], followers: int, *, limit: int | None = REPORT_WINDOW) -> float | None:
    """Median over the latest ``limit`` posts of (likes + comments) / followers x 100.

    The median of the unrounded per-post rates is rounded to 4 decimals. With an even
    number of posts the median is the mean of the two middle values. None when
    ``followers <= 0`` or no post of the window has a known engagement.
    """
    window = with_engagement(latest_posts(posts, limit))
    if followers <= 0 or not window:
        return None
    return round(statistics.median(p.engagement / followers * 100 for p in window), RATE_DECIMALS)


@dataclass(frozen=True)
class EngagementStats:
    posts_considered: int
    engagement_rate: float | None
    mean_likes: float | None
    mean_comments: float | None
    median_likes: float | None
    median_comments: float | None
    mean_engagement: float | None
    median_engagement: float | None
    comment_to_like_ratio: float | None


def engagement_stats(
    posts: Sequence[PostStats], followers: int, *, limit: int | None = REPORT_WINDOW
) -> EngagementStats:
    """The engagement rate plus means/medians of likes, comments and likes + comments.

    ``comment_to_like_ratio`` = sum(comments) / sum(likes) over the window (4 decimals;
    None when there are no likes).
    """
    window = latest_posts(posts, limit)
    likes = [p.likes for p in window if p.likes is not None]
    comments = [p.comments for p in window if p.comments is not None]
    known = with_engagement(window)
    totals = [p.engagement for p in known]
    total_likes = sum(p.likes for p in known)
    return EngagementStats(
        posts_considered=len(window),
        engagement_rate=engagement_rate(window, followers, limit=None),
        mean_likes=mean_or_none(likes),
        mean_comments=mean_or_none(comments),
        median_likes=median_or_none(likes),
        median_comments=median_or_none(comments),
        mean_engagement=mean_or_none(totals),
        median_engagement=median_or_none(totals),
        comment_to_like_ratio=(
            round(sum(p.comments for p in known) / total_likes, RATE_DECIMALS) if total_likes else None
        ),
    )


def video_view_rate(posts: Sequence[PostStats], *, limit: int | None = REPORT_WINDOW) -> float | None:
    """Median over the window's videos with views > 0 of (likes + comments) / views x 100.

    The median (not the mean) so that one reel pushed far beyond the audience does not
    decide the figure, as for the engagement rate. None when no video has views.
    """
    window = with_engagement(latest_posts(posts, limit))
    rates = [p.engagement / p.views * 100 for p in window if p.is_video and p.views]
    return round(statistics.median(rates), RATE_DECIMALS) if rates else None


def posting_frequency(posts: Sequence[PostStats], *, limit: int | None = REPORT_WINDOW) -> float | None:
    """Posts per week over the window: (n - 1) / span_days x 7, rounded to 2 decimals.

    n is the number of dated posts in the window and span_days the time between the
    oldest and newest of them in days (fractional). n - 1 because n posts delimit n - 1
    intervals. None with fewer than 2 dated posts or a zero span.
    """
    dates = [as_utc(p.posted_at) for p in latest_posts(posts, limit) if p.posted_at is not None]
    if len(dates) < 2:
        return None
    span_days = (max(dates) - min(dates)).total_seconds() / 86400
    if span_days <= 0:
        return None
    return round((len(dates) - 1) / span_days * 7, MEAN_DECIMALS)


@dataclass(frozen=True)
class TimeSlot:
    key: int = field(metadata={"help": "Weekday (0 = Monday) or hour (0-23, UTC)."})
    label: str
    posts: int
    mean_engagement: float


@dataclass(frozen=True)
class BestTimes:
    weekdays: list[TimeSlot]
    hours: list[TimeSlot]


def best_posting_times(posts: Sequence[PostStats], *, limit: int | None = REPORT_WINDOW) -> BestTimes:
    """Weekdays and hours (UTC) of the window's dated posts, best first.

    Each slot has its post count and the mean of (likes + comments) of its posts. Ranking:
    mean engagement descending, then more posts first, then the earlier weekday/hour.
    Only slots that have posts are listed.
    """
    by_day: dict[int, list[int]] = {}
    by_hour: dict[int, list[int]] = {}
    for post in latest_posts(posts, limit):
        if post.posted_at is None or post.engagement is None:
            continue
        moment = as_utc(post.posted_at)
        by_day.setdefault(moment.weekday(), []).append(post.engagement)
        by_hour.setdefault(moment.hour, []).append(post.engagement)
    return BestTimes(
        weekdays=_rank(by_day, lambda day: WEEKDAYS[day]),
        hours=_rank(by_hour, lambda hour: f"{hour:02d}:00 UTC"),
    )


def _rank(groups: dict[int, list[int]], label) -> list[TimeSlot]:
    slots = [
        TimeSlot(key=key, label=label(key), posts=len(values), mean_engagement=round(statistics.fmean(values), 2))
        for key, values in groups.items()
    ]
    return sorted(slots, key=lambda s: (-s.mean_engagement, -s.posts, s.key))


@dataclass(frozen=True)
class SponsoredSplit:
    sponsored_posts: int
    organic_posts: int
    sponsored_engagement_rate: float | None
    organic_engagement_rate: float | None
    sponsored_indices: list[int]


def sponsored_vs_organic(
    posts: Sequence[PostStats], followers: int, *, limit: int | None = REPORT_WINDOW
) -> SponsoredSplit:
    """Splits the window by ``post_sponsorship`` and gives each group's MEAN engagement rate.

    Group rate = mean over its posts of (likes + comments) / followers x 100 (4 decimals);
    None for an empty group or ``followers <= 0``. ``sponsored_indices`` are positions in
    ``posts``.
    """
    sponsored: list[int] = []
    organic: list[int] = []
    for index in latest_indices(posts, limit):
        (sponsored if post_sponsorship(posts[index]).is_sponsored else organic).append(index)

    def group_rate(indices: list[int]) -> float | None:
        known = [posts[i].engagement for i in indices if posts[i].engagement is not None]
        if followers <= 0 or not known:
            return None
        return round(statistics.fmean(value / followers * 100 for value in known), RATE_DECIMALS)

    return SponsoredSplit(
        sponsored_posts=len(sponsored),
        organic_posts=len(organic),
        sponsored_engagement_rate=group_rate(sponsored),
        organic_engagement_rate=group_rate(organic),
        sponsored_indices=sponsored,
    )


@dataclass(frozen=True)
class ViralPost:
    index: int  # position in the ``posts`` given
    engagement: int
    sigmas: float  # (engagement - mean) / std


@dataclass(frozen=True)
class ViralReport:
    mean_engagement: float
    std_engagement: float
    threshold: float
    posts: list[ViralPost]


def viral_posts(posts: Sequence[PostStats], *, limit: int | None = REPORT_WINDOW) -> ViralReport | None:
    """Posts whose likes + comments exceed mean + 2 x std of the window (strictly).

    std is the POPULATION standard deviation (divide by n): the window is the creator's
    whole recent output, not a sample. None with fewer than 3 posts. Note that with n
    posts no value can be more than (n - 1) / sqrt(n) deviations above the mean, so fewer
    than 6 posts never yield a viral post. Viral posts are listed by engagement descending.
    """
    indices = [i for i in latest_indices(posts, limit) if posts[i].engagement is not None]
    if len(indices) < VIRAL_MIN_POSTS:
        return None
    values = [posts[i].engagement for i in indices]
    mean = statistics.fmean(values)
    std = statistics.pstdev(values)
    threshold = mean + VIRAL_SIGMAS * std
    viral = [
        ViralPost(index=i, engagement=posts[i].engagement, sigmas=round((posts[i].engagement - mean) / std, 2))
        for i in indices
        if std > 0 and posts[i].engagement > threshold and not math.isclose(posts[i].engagement, threshold)
    ]
    viral.sort(key=lambda v: (-v.engagement, v.index))
    return ViralReport(
        mean_engagement=round(mean, 2), std_engagement=round(std, 2), threshold=round(threshold, 2), posts=viral
    )
