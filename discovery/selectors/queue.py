"""Reads of the discovery app (the related-creator queue's figures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from discovery.models import DiscoveryAttempt, DiscoveryCandidate


def discovery_queue_stats(*, now: datetime | None = None) -> dict[str, Any]:
    """The related-creator queue at a glance (admin and ``discovery_stats``).

    ``by_status``: candidates per status (``queued_due``: queued ones that may start now).
    ``last_hour`` / ``last_day``: jobs started in the windows the limits count, and candidates
    finished in them by status; ``today``: the same since midnight UTC. ``limits``: the
    settings, with what is left of each.
    """
    now = now or timezone.now()
    candidates = DiscoveryCandidate.objects.order_by()
    by_status = {status: 0 for status in DiscoveryCandidate.Status.values}
    by_status.update(dict(candidates.values_list("status").annotate(n=Count("id")).values_list("status", "n")))
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    by_status["queued_due"] = candidates.filter(due, status=DiscoveryCandidate.Status.QUEUED).count()

    def window(since: datetime) -> dict[str, int]:
        finished = candidates.filter(finished_at__gte=since, finished_at__lte=now)
        counts = dict(finished.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        return {
            "started": DiscoveryAttempt.objects.filter(started_at__gte=since, started_at__lte=now).count(),
            "done": counts.get(DiscoveryCandidate.Status.DONE, 0),
            "skipped": counts.get(DiscoveryCandidate.Status.SKIPPED, 0),
            "failed": counts.get(DiscoveryCandidate.Status.FAILED, 0),
        }

    # The limits count attempts started after now - 1 h (and - 1 day): the same windows.
    last_hour = window(now - timedelta(hours=1) + timedelta(microseconds=1))
    last_day = window(now - timedelta(days=1) + timedelta(microseconds=1))
    today = window(now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
    limits = {
        "max_running": settings.DISCOVERY_MAX_RUNNING,
        "per_hour": settings.DISCOVERY_MAX_PER_HOUR,
        "per_day": settings.DISCOVERY_MAX_PER_DAY,
        "max_attempts": settings.DISCOVERY_MAX_ATTEMPTS,
        "min_followers": settings.DISCOVERY_MIN_FOLLOWERS,
        "running_left": max(0, settings.DISCOVERY_MAX_RUNNING - by_status[DiscoveryCandidate.Status.RUNNING]),
        "hour_left": max(0, settings.DISCOVERY_MAX_PER_HOUR - last_hour["started"]),
        "day_left": max(0, settings.DISCOVERY_MAX_PER_DAY - last_day["started"]),
    }
    reasons = dict(
        candidates.exclude(reason="").values_list("reason").annotate(n=Count("id")).values_list("reason", "n")
    )
    return {
        "now": now,
        "by_status": by_status,
        "reasons": reasons,
        "last_hour": last_hour,
        "last_day": last_day,
        "today": today,
        "limits": limits,
    }
