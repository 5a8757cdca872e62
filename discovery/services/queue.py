"""The related-creator queue: related profiles in, discovery jobs out, within limits.

How related profiles reach the queue. Discovery sits above analysis, so the pipeline cannot
call into it, and no signal may carry the work (ARCHITECTURE.md). The scrape already stores
every related profile as a ``profiles.RelatedProfile`` row in its own transaction; the beat
task (``discovery.tasks.discovery_tick``, every minute) takes in the rows created since a
watermark (``candidates_intake``). Nothing is lost when a worker dies between the scrape and
the hook, the intake is one indexed query per tick however many jobs finished, and a
candidate is unique per username, so reading a row twice is harmless: the scan re-reads a
margin before the watermark for transactions that committed late.

How the queue drains. Every writer takes the row lock of ``DiscoveryQueueState`` first, so
the counts it reads (running candidates, attempts started in the last hour and day) cannot
change under it, with any number of workers or beat ticks at once. ``candidates_start``
starts analysis jobs (trigger ``discovery``, nobody charged: no wallet is touched) for queued
candidates in order, after skipping those already complete or known to be too small, until
a limit is reached. ``candidates_reconcile`` settles candidates whose job ended (done,
skipped under the follower minimum, retried with backoff, or failed). The job itself
stops after its scrape when the account has fewer than ``DISCOVERY_MIN_FOLLOWERS``
followers: the job carries the minimum in ``options`` and ``analysis.services`` applies it.

Every function takes ``now`` so that tests (and staff replaying a day) control the clock.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from analysis import services as analysis_services
from analysis.models import AnalysisJob
from discovery.models import DiscoveryAttempt, DiscoveryCandidate, DiscoveryQueueState
from profiles.models import Profile, RelatedProfile
from profiles.selectors.completeness import completeness_from_annotated, profiles_annotate_completeness

logger = logging.getLogger(__name__)

Status = DiscoveryCandidate.Status
Reason = DiscoveryCandidate.Reason

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Rows created this long before the watermark are read again: a scrape's transaction may
# commit after a later one was already taken in.
INTAKE_OVERLAP = timedelta(minutes=10)
# Job failures that another attempt cannot change.
PERMANENT_FAILURES = {"not_found": Reason.NOT_FOUND, "private": Reason.PRIVATE}


@dataclass(frozen=True)
class Limits:
    max_running: int
    per_hour: int
    per_day: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_running=settings.DISCOVERY_MAX_RUNNING,
            per_hour=settings.DISCOVERY_MAX_PER_HOUR,
            per_day=settings.DISCOVERY_MAX_PER_DAY,
        )


@dataclass
class Usage:
    """What the limits count, read under the queue lock."""

    running: int
    started_last_hour: int
    started_last_day: int

    def budget(self, limits: Limits) -> int:
        return max(
            0,
            min(
                limits.max_running - self.running,
                limits.per_hour - self.started_last_hour,
                limits.per_day - self.started_last_day,
            ),
        )


@dataclass
class TickResult:
    taken_in: int = 0
    started: int = 0
    skipped: int = 0
    settled: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        settled = ", ".join(f"{count} {status}" for status, count in sorted(self.settled.items())) or "none"
        return f"{self.taken_in} taken in, {self.started} started, {self.skipped} skipped, settled: {settled}"


def _queue_lock() -> DiscoveryQueueState:
    """Lock the queue's row (created on first use) until the caller's transaction ends."""
    state = DiscoveryQueueState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        DiscoveryQueueState.objects.bulk_create([DiscoveryQueueState(pk=1)], ignore_conflicts=True)
        state = DiscoveryQueueState.objects.select_for_update().get(pk=1)
    return state


def queue_usage(*, now: datetime) -> Usage:
    """Running candidates and attempts started in the hour and day before ``now``."""
    attempts = DiscoveryAttempt.objects.filter(started_at__lte=now)
    return Usage(
        running=DiscoveryCandidate.objects.filter(status=Status.RUNNING).count(),
        started_last_hour=attempts.filter(started_at__gt=now - HOUR).count(),
        started_last_day=attempts.filter(started_at__gt=now - DAY).count(),
    )


# --- Intake -------------------------------------------------------------------------------


def candidates_intake(*, batch: int | None = None, now: datetime | None = None) -> int:
    """Turn related profiles stored since the watermark into candidates; the number created.

    One candidate per username (the first profile that listed it is ``found_via``). A related
    profile known to be private is recorded as skipped: the provider cannot read it.
    """
    batch = batch or settings.DISCOVERY_INTAKE_BATCH
    now = now or timezone.now()
    with transaction.atomic():
        state = _queue_lock()
        related = RelatedProfile.objects.filter(
            ~Exists(DiscoveryCandidate.objects.filter(username=OuterRef("username")))
        )
        if state.related_watermark is not None:
            related = related.filter(created_at__gte=state.related_watermark - INTAKE_OVERLAP)
        rows = list(
            related.order_by("created_at", "id").values_list("username", "profile_id", "is_private", "created_at")[
                :batch
            ]
        )
        found: dict[str, tuple[Any, bool]] = {}
        for username, profile_id, is_private, _ in rows:
            found.setdefault(username, (profile_id, is_private))
        candidates = [
            DiscoveryCandidate(
                username=username,
                found_via_id=profile_id,
                status=Status.SKIPPED if is_private else Status.QUEUED,
                reason=Reason.PRIVATE if is_private else "",
                detail="Listed as private by the related profiles of a scrape." if is_private else "",
                finished_at=now if is_private else None,
            )
            for username, (profile_id, is_private) in found.items()
        ]
        created = DiscoveryCandidate.objects.bulk_create(candidates, ignore_conflicts=True)
        if rows and (state.related_watermark is None or rows[-1][3] > state.related_watermark):
            state.related_watermark = rows[-1][3]
            state.save(update_fields=["related_watermark", "updated_at"])
    return len(created)


# --- Settling candidates whose job ended ------------------------------------------------------


def _backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: the base, doubled each time."""
    return settings.DISCOVERY_RETRY_BACKOFF * 2 ** max(attempts - 1, 0)


def _outcome(candidate: DiscoveryCandidate, now: datetime) -> dict[str, Any]:
    """The candidate's fields once its job has ended (or vanished)."""
    job = candidate.job
    if job is not None and job.status == AnalysisJob.Status.COMPLETED:
        return {"status": Status.DONE, "reason": "", "detail": ""}
    if job is not None and job.status == AnalysisJob.Status.PARTIAL:
        stopped = job.result.get(analysis_services.STOPPED) or {}
        if stopped.get("reason") == Reason.BELOW_MIN_FOLLOWERS:
            return {"status": Status.SKIPPED, "reason": Reason.BELOW_MIN_FOLLOWERS, "detail": stopped.get("detail", "")}
        missing = ((job.result.get("completeness") or {}).get("missing")) or []
        return {"status": Status.DONE, "reason": Reason.PARTIAL, "detail": "missing: " + ", ".join(missing)}
    if job is None:
        category, detail = "job_missing", "The analysis job was deleted."
    else:
        category, detail = job.error_category or "internal", f"{job.error_stage}: {job.error_detail}"
    if category in PERMANENT_FAILURES:
        return {"status": Status.FAILED, "reason": PERMANENT_FAILURES[category], "detail": detail}
    if candidate.attempts >= settings.DISCOVERY_MAX_ATTEMPTS:
        return {"status": Status.FAILED, "reason": Reason.ATTEMPTS_EXHAUSTED, "detail": f"{category}: {detail}"}
    return {
        "status": Status.QUEUED,
        "reason": Reason.RETRY,
        "detail": f"attempt {candidate.attempts} failed ({category}): {detail}",
        "next_attempt_at": now + _backoff(candidate.attempts),
    }


def _fail_stuck_jobs() -> None:
    """Fail discovery jobs that stopped moving, so that a dead worker cannot hold a slot forever."""
    cutoff = timezone.now() - settings.PIPELINE_STALE_AFTER  # the jobs' own clock, not ``now``
    stuck = AnalysisJob.objects.filter(
        discovery_candidates__status=Status.RUNNING,
        status__in=AnalysisJob.ACTIVE_STATUSES,
        updated_at__lt=cutoff,
    ).values_list("pk", "status")
    for job_id, status in stuck:
        analysis_services.job_fail(job_id=job_id, stage=status, category="timeout", detail="No progress in time.")


def candidates_reconcile(*, now: datetime | None = None) -> Counter:
    """Settle running candidates whose job has ended; counts by their new status."""
    now = now or timezone.now()
    _fail_stuck_jobs()
    settled: Counter = Counter()
    with transaction.atomic():
        _queue_lock()
        ended = (
            DiscoveryCandidate.objects.select_related("job")
            .filter(status=Status.RUNNING)
            .filter(Q(job__isnull=True) | Q(job__status__in=AnalysisJob.TERMINAL_STATUSES))
        )
        for candidate in ended:
            outcome = {"next_attempt_at": None, **_outcome(candidate, now)}
            outcome["finished_at"] = None if outcome["status"] == Status.QUEUED else now
            for name, value in outcome.items():
                setattr(candidate, name, value)
            candidate.detail = candidate.detail[:500]
            candidate.save(update_fields=[*outcome, "updated_at"])
            DiscoveryAttempt.objects.filter(candidate=candidate, finished_at__isnull=True).update(
                finished_at=now, outcome=candidate.status
            )
            settled[str(candidate.status)] += 1
    return settled


# --- Starting jobs ----------------------------------------------------------------------------


def _profiles_by_username(usernames: list[str]) -> dict[str, Profile]:
    """The stored profiles among ``usernames``, annotated for completeness (one query)."""
    profiles = profiles_annotate_completeness(Profile.objects.filter(username__in=usernames))
    return {profile.username: profile for profile in profiles}


def _skip_reason(profile: Profile | None, *, forced: bool) -> tuple[str, str] | None:
    """Why a candidate need not be analysed, from what is stored already; None to analyse it."""
    if profile is None:
        return None
    if completeness_from_annotated(profile).is_complete:
        return Reason.COMPLETE, "The creator is already complete."
    minimum = settings.DISCOVERY_MIN_FOLLOWERS
    if not forced and profile.last_scraped_at is not None and profile.followers_count < minimum:
        return (
            Reason.BELOW_MIN_FOLLOWERS,
            f"{profile.followers_count} followers, fewer than {minimum} (scraped {profile.last_scraped_at:%Y-%m-%d})",
        )
    return None


def _candidate_skip(candidate: DiscoveryCandidate, *, reason: str, detail: str, now: datetime) -> None:
    candidate.status, candidate.reason, candidate.detail = Status.SKIPPED, reason, detail[:500]
    candidate.finished_at, candidate.next_attempt_at = now, None
    candidate.save(update_fields=["status", "reason", "detail", "finished_at", "next_attempt_at", "updated_at"])


def _candidate_start(candidate: DiscoveryCandidate, *, now: datetime, forced: bool) -> None:
    """Start (or join) the analysis job of ``candidate``; its scrape is queued on commit.

    Nobody requests the job and no credit is spent. Unless staff forced it, the job carries
    the follower minimum so that a small account stops after its scrape.
    """
    options = {} if forced else {analysis_services.MIN_FOLLOWERS: settings.DISCOVERY_MIN_FOLLOWERS}
    job, _ = analysis_services.job_start(
        username=candidate.username, requested_by=None, trigger=AnalysisJob.Trigger.DISCOVERY, options=options
    )
    candidate.status, candidate.reason, candidate.detail = Status.RUNNING, "", ""
    candidate.attempts += 1
    candidate.started_at, candidate.finished_at, candidate.next_attempt_at = now, None, None
    candidate.job = job
    candidate.save(
        update_fields=[
            "status", "reason", "detail", "attempts", "started_at", "finished_at", "next_attempt_at", "job",
            "updated_at",
        ]
    )  # fmt: skip
    DiscoveryAttempt.objects.create(candidate=candidate, job=job, started_at=now, forced=forced)


def candidates_start(*, now: datetime | None = None, limits: Limits | None = None) -> tuple[int, int]:
    """Start queued candidates that are due, in order, within the limits; (started, skipped).

    Candidates already complete, or scraped before with too few followers, are skipped on the
    way without using the budget.
    """
    now = now or timezone.now()
    limits = limits or Limits.from_settings()
    started = skipped = 0
    with transaction.atomic():
        _queue_lock()
        budget = queue_usage(now=now).budget(limits)
        last_id = 0
        while budget > 0:
            chunk = list(
                DiscoveryCandidate.objects.filter(status=Status.QUEUED, id__gt=last_id)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .order_by("id")[: max(budget * 4, 50)]
            )
            if not chunk:
                break
            last_id = chunk[-1].id
            profiles = _profiles_by_username([candidate.username for candidate in chunk])
            for candidate in chunk:
                if budget <= 0:
                    break
                why = _skip_reason(profiles.get(candidate.username), forced=False)
                if why is not None:
                    _candidate_skip(candidate, reason=why[0], detail=why[1], now=now)
                    skipped += 1
                    continue
                _candidate_start(candidate, now=now, forced=False)
                started += 1
                budget -= 1
    if started or skipped:
        logger.info("discovery: %s started, %s skipped", started, skipped)
    return started, skipped


def discovery_tick(*, now: datetime | None = None) -> TickResult:
    """One run of the queue (the beat task): take in, settle, start, settle.

    The second settle records jobs that already ended: without a broker the pipeline runs
    when the starting transaction commits.
    """
    result = TickResult(taken_in=candidates_intake(now=now))
    result.settled.update(candidates_reconcile(now=now))
    result.started, result.skipped = candidates_start(now=now)
    if result.started:
        result.settled.update(candidates_reconcile(now=now))
    return result


# --- Staff actions ----------------------------------------------------------------------------


def candidates_discover_now(*, candidate_ids: list[Any], now: datetime | None = None) -> dict[str, int]:
    """Staff: analyse these candidates now, outside the limits (the attempts still count).

    The whole pipeline runs (no follower minimum: staff chose them); complete creators are
    skipped and running ones left alone. Returns counts of started, skipped and untouched.
    """
    now = now or timezone.now()
    counts = {"started": 0, "skipped": 0, "untouched": 0}
    with transaction.atomic():
        _queue_lock()
        candidates = list(DiscoveryCandidate.objects.select_for_update().filter(pk__in=candidate_ids).order_by("id"))
        counts["untouched"] = len(set(candidate_ids)) - len(candidates)
        profiles = _profiles_by_username([candidate.username for candidate in candidates])
        for candidate in candidates:
            if candidate.status == Status.RUNNING:
                counts["untouched"] += 1
                continue
            why = _skip_reason(profiles.get(candidate.username), forced=True)
            if why is not None:
                _candidate_skip(candidate, reason=why[0], detail=why[1], now=now)
                counts["skipped"] += 1
                continue
            _candidate_start(candidate, now=now, forced=True)
            counts["started"] += 1
    return counts


def candidates_skip(*, candidate_ids: list[Any], now: datetime | None = None) -> int:
    """Staff: skip queued or failed candidates (running, done and skipped ones are left alone)."""
    now = now or timezone.now()
    with transaction.atomic():
        _queue_lock()
        return DiscoveryCandidate.objects.filter(
            pk__in=candidate_ids, status__in=[Status.QUEUED, Status.FAILED]
        ).update(
            status=Status.SKIPPED,
            reason=Reason.STAFF,
            detail="Skipped by staff.",
            finished_at=now,
            next_attempt_at=None,
            updated_at=now,
        )
