"""Follower and following history from profile snapshots: series, 7/30-day growth, ratio."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from profiles.metrics.inputs import RATE_DECIMALS, SnapshotPoint, as_utc, rate

GROWTH_WINDOWS_DAYS = (7, 30)


def following_followers_ratio(*, following: int, followers: int) -> float | None:
    """following / followers, rounded to 4 decimals; None when followers <= 0."""
    if followers <= 0:
        return None
    return round(max(following, 0) / followers, RATE_DECIMALS)


@dataclass(frozen=True)
class SeriesPoint:
    date: date
    followers: int
    following: int


@dataclass(frozen=True)
class Growth:
    days: int
    since: datetime  # the baseline snapshot
    until: datetime  # the latest snapshot
    followers_change: int
    followers_change_percent: float | None
    following_change: int
    following_change_percent: float | None


@dataclass(frozen=True)
class GrowthReport:
    series: list[SeriesPoint]
    latest: SnapshotPoint | None
    growth_7d: Growth | None
    growth_30d: Growth | None
    following_followers_ratio: float | None


def follower_series(snapshots: Sequence[SnapshotPoint]) -> list[SeriesPoint]:
    """One point per UTC day, oldest first: the last snapshot captured that day."""
    by_day: dict[date, SnapshotPoint] = {}
    for snap in sorted(snapshots, key=lambda s: as_utc(s.captured_at)):
        by_day[as_utc(snap.captured_at).date()] = snap
    return [SeriesPoint(date=day, followers=s.followers, following=s.following) for day, s in sorted(by_day.items())]


def growth_over(snapshots: Sequence[SnapshotPoint], *, days: int, now: datetime | None = None) -> Growth | None:
    """Change between the latest snapshot and the baseline ``days`` before ``now``.

    baseline = the latest snapshot captured at or before ``now - days`` (the closest one
    on or before that instant). ``now`` defaults to the latest snapshot's time.
    change = latest - baseline; percent = change / baseline x 100 (4 decimals, None when
    the baseline count is 0). None when there is no such baseline, or when it is the
    latest snapshot itself.
    """
    if not snapshots:
        return None
    ordered = sorted(snapshots, key=lambda s: as_utc(s.captured_at))
    latest = ordered[-1]
    cutoff = as_utc(now if now is not None else latest.captured_at) - timedelta(days=days)
    candidates = [s for s in ordered if as_utc(s.captured_at) <= cutoff]
    if not candidates or candidates[-1] is latest:
        return None
    base = candidates[-1]
    return Growth(
        days=days,
        since=as_utc(base.captured_at),
        until=as_utc(latest.captured_at),
        followers_change=latest.followers - base.followers,
        followers_change_percent=rate(latest.followers - base.followers, base.followers),
        following_change=latest.following - base.following,
        following_change_percent=rate(latest.following - base.following, base.following),
    )


def growth_report(snapshots: Sequence[SnapshotPoint], *, now: datetime | None = None) -> GrowthReport:
    """Series, 7-day and 30-day growth and the latest following/followers ratio."""
    latest = max(snapshots, key=lambda s: as_utc(s.captured_at)) if snapshots else None
    return GrowthReport(
        series=follower_series(snapshots),
        latest=latest,
        growth_7d=growth_over(snapshots, days=7, now=now),
        growth_30d=growth_over(snapshots, days=30, now=now),
        following_followers_ratio=(
            following_followers_ratio(following=latest.following, followers=latest.followers) if latest else None
        ),
    )
