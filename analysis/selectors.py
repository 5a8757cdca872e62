"""Reads of analysis jobs, scoped to who may see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from analysis.models import AnalysisJob, AnalysisJobEvent
from config.errors import NotFound
from profiles.models import TeamProfileAccess
from profiles.selectors import Actor


def jobs_visible_to(*, actor: Actor) -> QuerySet[AnalysisJob]:
    """Jobs an actor may see: staff every job; a member the jobs started for their team and the
    jobs of creators their team unlocked (a team that joined a running job follows it too)."""
    jobs = AnalysisJob.objects.select_related("profile")
    if actor.is_staff:
        return jobs
    unlocked = TeamProfileAccess.objects.filter(team_id=actor.team_id, profile__username=OuterRef("username"))
    return jobs.filter(Q(team_id=actor.team_id) | Exists(unlocked))


def job_get(*, job_id: Any, actor: Actor) -> AnalysisJob:
    """One job the actor may see (404, never 403, for anyone else's job)."""
    job = jobs_visible_to(actor=actor).filter(pk=job_id).first()
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
