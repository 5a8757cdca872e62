"""Unlocks of creators that turn out not to exist are refunded and their access withdrawn.

A charge happens only when the action succeeded (PRODUCT.md). An unlock of a creator that
is not stored yet is charged when its job starts; when that job then fails because the
account does not exist or is private, nothing was delivered: every unlock paid during the
job (by anyone who joined it) is refunded, credits and quota uses alike, and the access it
granted ends. Other failures (provider down, timeouts) keep access: staff repair the job and
the report appears within the 30 days.
"""

from __future__ import annotations

import logging

from django.dispatch import receiver

from analysis.models import AnalysisJob
from analysis.signals import job_failed
from credits import services as credits_services
from profiles import access as profile_access
from profiles.completeness import profile_completeness

logger = logging.getLogger(__name__)

UNLOCK_ACTION = "influencer_unlock"
NOTHING_TO_DELIVER = frozenset({"not_found", "private"})


@receiver(job_failed, sender=AnalysisJob, dispatch_uid="profiles.refund_unlocks_of_failed_job")
def refund_unlocks_of_failed_job(sender, job: AnalysisJob, **kwargs) -> None:
    if job.error_category not in NOTHING_TO_DELIVER or job.profile is None:
        return
    if profile_completeness(profile=job.profile).is_complete:
        return  # an earlier analysis is still served: the unlocks delivered it
    refunds = credits_services.credits_refund_reference(
        action_type=UNLOCK_ACTION,
        reference=f"profile:{job.username}",
        since=job.created_at,
        reason=f"@{job.username} could not be analysed ({job.error_category}).",
    )
    for refund in refunds:
        profile_access.access_revoke(team_id=refund.wallet.account_id, profile=job.profile)
    if refunds:
        logger.info("refunded %d unlock(s) of @%s after job %s failed", len(refunds), job.username, job.pk)
