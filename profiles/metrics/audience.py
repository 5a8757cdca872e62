"""An audience-quality ESTIMATE (0-100) from profile-level signals.

Honest scope: no follower sample is analysed (we never see who the followers are), so
this cannot detect bought followers directly. It scores signals that correlate with a
real, engaged audience and returns each signal's value and points, so the report can
show how the number was reached. Weights and benchmark bands are product choices
documented in the README, not a measured model.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from profiles.metrics.engagement import engagement_rate
from profiles.metrics.growth import following_followers_ratio
from profiles.metrics.inputs import REPORT_WINDOW, PostStats, ProfileStats, as_utc, latest_posts, with_engagement

METHOD = "estimate from profile-level signals; no follower sample was analysed"

# (upper bound of followers, exclusive; typical engagement rate in %) - reference values
# in line with published industry medians by account size (smaller accounts engage more).
BENCHMARK_BANDS: tuple[tuple[float, float], ...] = (
    (10_000, 3.0),
    (50_000, 2.0),
    (500_000, 1.5),
    (1_000_000, 1.2),
    (float("inf"), 1.0),
)

W_ENGAGEMENT = 35
W_RATIO = 20
W_COMMENTS = 15
W_CONSISTENCY = 15
W_VERIFIED = 5
W_BIOGRAPHY = 5
W_LINK = 5


@dataclass(frozen=True)
class QualitySignal:
    name: str
    value: float | bool | None
    points: float
    max_points: int


@dataclass(frozen=True)
class AudienceQuality:
    score: int
    signals: list[QualitySignal]
    method: str = METHOD


def benchmark_engagement_rate(followers: int) -> float:
    """The typical engagement rate (%) for an account of this size (BENCHMARK_BANDS)."""
    for upper, typical in BENCHMARK_BANDS:
        if followers < upper:
            return typical
    return BENCHMARK_BANDS[-1][1]


def posting_consistency(posts: Sequence[PostStats], *, limit: int | None = REPORT_WINDOW) -> float | None:
    """Coefficient of variation of the gaps between consecutive dated posts of the window.

    cv = population std(gaps) / mean(gaps), 4 decimals: 0 = perfectly regular. None with
    fewer than 3 dated posts (2 gaps) or when every post has the same time.
    """
    dates = sorted(as_utc(p.posted_at) for p in latest_posts(posts, limit) if p.posted_at is not None)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(dates)]
    if len(gaps) < 2 or statistics.fmean(gaps) == 0:
        return None
    return round(statistics.pstdev(gaps) / statistics.fmean(gaps), 4)


def _comment_points(ratio: float | None) -> float:
    # Very few comments per like is typical of bought likes; very many of comment pods
    # and giveaways. 0.5%-10% is the ordinary range.
    if ratio is None:
        return 0.0
    if 0.005 <= ratio <= 0.10:
        return float(W_COMMENTS)
    if 0.001 <= ratio < 0.005 or 0.10 < ratio <= 0.30:
        return W_COMMENTS / 2
    return 0.0


def audience_quality_estimate(
    profile: ProfileStats, posts: Sequence[PostStats], *, limit: int | None = REPORT_WINDOW
) -> AudienceQuality:
    """Score = round(sum of the points below), 0-100. Each signal's points are rounded to 2
    decimals for display only.

    - engagement_vs_benchmark (35): ratio = engagement_rate / benchmark for the follower
      band; points = 35 x min(ratio, 1.5) / 1.5 (0 when the rate is undefined).
    - following_followers_ratio (20): r <= 0.1 -> 20, r >= 1 -> 0, linear in between:
      20 x (1 - (r - 0.1) / 0.9); 0 when followers = 0.
    - comment_to_like_ratio (15): sum(comments) / sum(likes) of the window; 15 within
      [0.005, 0.10], 7.5 within [0.001, 0.005) or (0.10, 0.30], else 0.
    - posting_consistency (15): cv of the gaps between posts; 15 x max(0, 1 - cv / 2);
      0 when undefined.
    - verified, biography, external_link (5 each): 5 when present.
    """
    window = latest_posts(posts, limit)
    er = engagement_rate(window, profile.followers, limit=None)
    benchmark = benchmark_engagement_rate(profile.followers)
    er_ratio = None if er is None else er / benchmark
    ratio = following_followers_ratio(following=profile.following, followers=profile.followers)
    known = with_engagement(window)
    likes = sum(p.likes for p in known)
    c2l = round(sum(p.comments for p in known) / likes, 4) if likes else None
    cv = posting_consistency(window, limit=None)
    has_link = bool((profile.external_url or "").strip() or any((u or "").strip() for u in profile.external_urls))

    raw = [
        ("engagement_vs_benchmark", None if er_ratio is None else round(er_ratio, 4),
         0.0 if er_ratio is None else W_ENGAGEMENT * min(er_ratio, 1.5) / 1.5, W_ENGAGEMENT),
        ("following_followers_ratio", ratio,
         0.0 if ratio is None else W_RATIO * min(max(1 - (ratio - 0.1) / 0.9, 0.0), 1.0), W_RATIO),
        ("comment_to_like_ratio", c2l, _comment_points(c2l), W_COMMENTS),
        ("posting_consistency", cv, 0.0 if cv is None else W_CONSISTENCY * max(0.0, 1 - cv / 2), W_CONSISTENCY),
        ("verified", profile.is_verified, float(W_VERIFIED if profile.is_verified else 0), W_VERIFIED),
        ("biography", bool((profile.biography or "").strip()),
         float(W_BIOGRAPHY if (profile.biography or "").strip() else 0), W_BIOGRAPHY),
        ("external_link", has_link, float(W_LINK if has_link else 0), W_LINK),
    ]  # fmt: skip
    total = sum(points for _, _, points, _ in raw)
    return AudienceQuality(
        score=max(0, min(100, round(total))),
        signals=[QualitySignal(name=n, value=v, points=round(p, 2), max_points=m) for n, v, p, m in raw],
    )
