"""The unlock's side of the pipeline: refusing usernames known to be missing or private, and
joining (or starting) the unlock's analysis job under a row lock.

The answer of a failed job is remembered (``UNLOCK_UNAVAILABLE_REMEMBER_SECONDS``, from the
failed job itself): unlocking that username again is refused with 404 ``creator_unavailable``
before anything is charged or scraped. Concurrent unlocks of one username join one job: each
unlock holds the username's lock (``analysis.services.username_lock``, also taken by a job
failing as missing or private) from its check to its commit, and locks the job's row, so a job
cannot fail (and refund, see ``profiles.services.unlocks_refund``) between an unlock's check
and its charge: either the refund sees the charge, or the unlock sees the failure and is
refused without a charge or a new scrape.
"""

from __future__ import annotations

from typing import Any

from analysis import services as analysis_services
from analysis.models import AnalysisJob
from analysis.selectors import NOTHING_TO_DELIVER, job_unavailable_for
from config.errors import NotFound
from profiles.selectors.completeness import profile_completeness


def _unavailable(job: AnalysisJob) -> NotFound:
    what = "is private" if job.error_category == "private" else "does not exist"
    return NotFound(
        f"@{job.username} {what} on Instagram (checked {job.finished_at:%Y-%m-%d %H:%M} UTC): nothing to "
        "unlock, nothing was charged.",
        code="creator_unavailable",
        details={"username": job.username, "reason": job.error_category, "checked_at": job.finished_at},
    )


def unlock_refuse_unavailable(*, username: str) -> None:
    """Raise 404 ``creator_unavailable`` if ``username`` was recently found missing or private."""
    job = job_unavailable_for(username=username)
    if job is not None and not (job.profile and profile_completeness(profile=job.profile).is_complete):
        raise _unavailable(job)  # (an earlier complete analysis is still served and sold)


def unlock_job_join(*, username: str, requested_by: Any, team: Any = None) -> AnalysisJob:
    """Start the unlock's analysis job or join the running one, and lock its row until commit.

    Call inside the unlock's transaction (the credit gate's). Raises ``creator_unavailable``
    (the gate then rolls back access and charge) when the username is remembered as missing
    or private, or when the joined job has just failed that way.
    """
    analysis_services.username_lock(username)  # no job of it fails until this unlock commits
    unlock_refuse_unavailable(username=username)
    job, _ = analysis_services.job_start(username=username, requested_by=requested_by, team=team)
    job = AnalysisJob.objects.select_for_update().get(pk=job.pk)
    if job.status == AnalysisJob.Status.FAILED and job.error_category in NOTHING_TO_DELIVER:
        raise _unavailable(job)
    return job
