"""Reads of analysis jobs, scoped to who may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from analysis.models import AnalysisJob, AnalysisJobEvent
from config.errors import NotFound
from profiles.completeness import Completeness
from profiles.models import TeamProfileAccess
from profiles.selectors import Actor

Step = AnalysisJob.Step

# Which pipeline step repairs each completeness criterion (``profiles.completeness``).
CRITERION_STEP: dict[str, str] = {
    "counts": Step.SCRAPE,
    "biography": Step.SCRAPE,
    "posts_stored": Step.SCRAPE,
    "posts_analysed": Step.AI,
    "profile_analysed": Step.AI,
    "posts_thumbnails": Step.MEDIA,
}


def repair_steps(*, completeness: Completeness) -> list[str]:
    """The pipeline steps that would repair what ``completeness`` misses, in pipeline order."""
    needed = {CRITERION_STEP[name] for name in completeness.missing}
    return [str(step) for step in AnalysisJob.ALL_STEPS if step in needed]


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
