"""Unlocks of creators that turn out not to exist are refunded and their access withdrawn.

A charge happens only when the action succeeded (PRODUCT.md). An unlock of a creator that
is not stored yet is charged when its job starts; when that job then fails because the
account does not exist or is private, nothing was delivered: every unlock paid during the
job (by anyone who joined it) is refunded, credits and quota uses alike, and the access it
granted ends. Other failures (provider down, timeouts) keep access: staff repair the job and
the report appears within the 30 days.

The answer is remembered (``UNLOCK_UNAVAILABLE_REMEMBER_SECONDS``, from the failed job itself):
unlocking that username again is refused with 404 ``creator_unavailable`` before anything is
charged or scraped. Concurrent unlocks of one username join one job, and each unlock locks
that job's row before it commits, so a job cannot fail (and refund) between an unlock joining
it and the unlock's charge: either the refund sees the charge, or the unlock sees the failure
and charges nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from analysis import services as analysis_services
from analysis.models import AnalysisJob
from analysis.selectors import NOTHING_TO_DELIVER, job_unavailable_for
from analysis.signals import job_failed
from config.errors import NotFound
from credits import services as credits_services
from profiles import access as profile_access
from profiles.completeness import profile_completeness
from profiles.models import Profile

logger = logging.getLogger(__name__)

UNLOCK_ACTION = "influencer_unlock"


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
    unlock_refuse_unavailable(username=username)
    job, _ = analysis_services.job_start(username=username, requested_by=requested_by, team=team)
    job = AnalysisJob.objects.select_for_update().get(pk=job.pk)
    if job.status == AnalysisJob.Status.FAILED and job.error_category in NOTHING_TO_DELIVER:
        raise _unavailable(job)
    return job


@receiver(job_failed, sender=AnalysisJob, dispatch_uid="profiles.refund_unlocks_of_failed_job")
def refund_unlocks_of_failed_job(sender, job: AnalysisJob, **kwargs) -> None:
    profile = job.profile or Profile.objects.filter(username=job.username).first()
    if job.error_category not in NOTHING_TO_DELIVER or profile is None:
        return
    if profile_completeness(profile=profile).is_complete:
        return  # an earlier analysis is still served: the unlocks delivered it
    # The refunds and the end of their access commit together: no moment where an unlock is
    # refunded but its access still answers (an unlock then would be "already accessible").
    with transaction.atomic():
        refunds = credits_services.credits_refund_reference(
            action_type=UNLOCK_ACTION,
            reference=f"profile:{job.username}",
            since=job.created_at,
            reason=f"@{job.username} could not be analysed ({job.error_category}).",
        )
        for refund in refunds:
            profile_access.access_revoke(team_id=refund.wallet.account_id, profile=profile)
    if refunds:
        logger.info("refunded %d unlock(s) of @%s after job %s failed", len(refunds), job.username, job.pk)
