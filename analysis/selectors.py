"""Reads of analysis jobs, scoped to who may see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from analysis.models import AnalysisJob, AnalysisJobEvent
from config.errors import NotFound
from profiles.models import UserProfileAccess


def _unlocked_usernames(user: Any) -> QuerySet:
    """The usernames the user may see the report of (the one "which access" lookup here)."""
    return UserProfileAccess.objects.filter(user=user, expires_at__gt=timezone.now()).values("profile__username")


def jobs_visible_to(*, user: Any) -> QuerySet[AnalysisJob]:
    """Jobs a user may see: their own, and the jobs of creators they have unlocked (an unlock
    that joins another user's running job shows that job, so it must stay readable); staff see
    every job."""
    jobs = AnalysisJob.objects.select_related("profile")
    if user.is_staff:
        return jobs
    return jobs.filter(Q(requested_by=user) | Q(username__in=_unlocked_usernames(user)))


def job_visible(*, job: AnalysisJob, user: Any) -> bool:
    """Whether ``jobs_visible_to(user=user)`` holds ``job`` (for a job already loaded)."""
    if user.is_staff or job.requested_by_id == user.pk:
        return True
    return _unlocked_usernames(user).filter(profile__username=job.username).exists()


def job_get(*, job_id: Any, user: Any) -> AnalysisJob:
    """One job of the user's (404, never 403, for someone else's job)."""
    job = jobs_visible_to(user=user).filter(pk=job_id).first()
    if job is None:
        raise NotFound("No such analysis job.", code="job_not_found")
    return job


def job_events_after(*, job: AnalysisJob, after_id: int = 0) -> list[AnalysisJobEvent]:
    return list(job.events.filter(id__gt=after_id).order_by("id"))


def job_active_for(*, username: str) -> AnalysisJob | None:
    return AnalysisJob.objects.filter(username=username, status__in=AnalysisJob.ACTIVE_STATUSES).first()


# Failures after which there is nothing to deliver: the account does not exist or is private.
NOTHING_TO_DELIVER = frozenset({"not_found", "private"})


def job_unavailable_for(*, username: str) -> AnalysisJob | None:
    """The failed job remembered for ``username`` when its account was missing or private.

    Only while the latest job of that username is such a failure, ended less than
    ``UNLOCK_UNAVAILABLE_REMEMBER_SECONDS`` ago (a later job, e.g. a staff re-analysis, wins).
    """
    seconds = settings.UNLOCK_UNAVAILABLE_REMEMBER_SECONDS
    if seconds <= 0:
        return None
    latest = AnalysisJob.objects.filter(username=username).order_by("-created_at").first()
    if (
        latest is None
        or latest.status != AnalysisJob.Status.FAILED
        or latest.error_category not in NOTHING_TO_DELIVER
        or latest.finished_at is None
        or latest.finished_at < timezone.now() - timedelta(seconds=seconds)
    ):
        return None
    return latest
