"""The related-creator queue end to end: a scrape's related profiles become candidates, the
beat's ticks start discovery jobs within the limits (with a clock the test controls), and
the real pipeline (dataset provider, CDN, rules AI) runs each job.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from analysis import services as analysis_services
from analysis.models import AnalysisJob
from cdn.models import ImageAsset
from credits.models import CreditTransaction, QuotaUsage, Wallet
from discovery.models import DiscoveryAttempt, DiscoveryCandidate
from discovery.selectors import discovery_queue_stats
from discovery.services import queue
from profiles.models import Post, Profile, RelatedProfile
from profiles.selectors.completeness import profile_completeness
from tests.discovery.conftest import SEED, related_name, run_pipeline, write_discovery_dataset

pytestmark = pytest.mark.django_db

Status = DiscoveryCandidate.Status
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _running() -> int:
    return DiscoveryCandidate.objects.filter(status=Status.RUNNING).count()


def _active_discovery_jobs() -> int:
    return AnalysisJob.objects.filter(
        trigger=AnalysisJob.Trigger.DISCOVERY, status__in=AnalysisJob.ACTIVE_STATUSES
    ).count()


def _tick_holding_jobs(capture, now: datetime) -> list:
    """One tick whose started jobs stay queued (their scrape tasks are held, not run yet)."""
    with capture(execute=False) as held:
        queue.discovery_tick(now=now)
    return list(held)


def _run_held(capture, held: list) -> None:
    """Let the held jobs run to their end, as workers would."""
    with capture(execute=True):
        for callback in held:
            callback()


def test_300_related_creators_drain_within_the_limits(
    discovery_settings, image_host, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    small, missing = related_name(2), related_name(4)
    # Every tenth related creator is big enough for the whole pipeline; the others have
    # 500..799 followers (the small account followed below has 640).
    followers = {related_name(i): 5_000 if i % 10 == 0 else 500 + i for i in range(300)}
    followers[small] = 640
    write_discovery_dataset(
        discovery_settings.SCRAPER_DATASET_DIR, image_host.base, related=300, followers=followers, missing={missing}
    )
    # Two of the related creators were analysed already (complete), before the seed.
    for name in (related_name(1), related_name(3)):
        assert run_pipeline(name, capture).status == AnalysisJob.Status.COMPLETED
    assert run_pipeline(SEED, capture).status == AnalysisJob.Status.COMPLETED
    assert RelatedProfile.objects.filter(profile__username=SEED).count() == 300
    wallets, ledger, quota = Wallet.objects.count(), CreditTransaction.objects.count(), QuotaUsage.objects.count()
    images_before = ImageAsset.objects.count()

    # One hour of ticks, one a minute; each tick's jobs run before the next tick.
    peak = 0
    for minute in range(60):
        held = _tick_holding_jobs(capture, T0 + timedelta(minutes=minute))
        peak = max(peak, _running(), _active_discovery_jobs())
        assert _running() <= 3 and _active_discovery_jobs() <= 3
        _run_held(capture, held)

    assert DiscoveryCandidate.objects.count() == 300
    assert peak == 3
    started = DiscoveryAttempt.objects.filter(started_at__gte=T0, started_at__lt=T0 + timedelta(hours=1))
    assert started.count() == 100
    assert AnalysisJob.objects.filter(trigger=AnalysisJob.Trigger.DISCOVERY).count() == 100
    # The two complete creators were skipped without a job, and without using the budget.
    for name in (related_name(1), related_name(3)):
        candidate = DiscoveryCandidate.objects.get(username=name)
        assert (candidate.status, candidate.reason, candidate.attempts) == (Status.SKIPPED, "complete", 0)
        assert not AnalysisJob.objects.filter(username=name, trigger=AnalysisJob.Trigger.DISCOVERY).exists()
    # Nobody paid: no wallet, no ledger line, no quota use.
    assert (Wallet.objects.count(), CreditTransaction.objects.count(), QuotaUsage.objects.count()) == (
        wallets,
        ledger,
        quota,
    )

    # The small account: scraped, then stopped, with no media and no AI stored.
    candidate = DiscoveryCandidate.objects.get(username=small)
    assert (candidate.status, candidate.reason) == (Status.SKIPPED, "below_min_followers")
    assert "640 followers" in candidate.detail
    job = candidate.job
    assert job.status == AnalysisJob.Status.PARTIAL and job.steps == ["scrape"]
    assert job.result["stopped"]["reason"] == "below_min_followers"
    assert job.media_started_at is None and job.ai_started_at is None
    profile = Profile.objects.get(username=small)
    assert profile.followers_count == 640 and profile.last_scraped_at is not None
    assert profile.cdn_avatar_url == "" and profile.ai_profile_analyzed_at is None
    assert not Post.objects.filter(profile=profile).exclude(cdn_thumbnail_url="").exists()
    assert not Post.objects.filter(profile=profile, ai_analyzed_at__isnull=False).exists()
    assert f"/cdn/{small}.jpg" not in image_host.hits

    # Not in the dataset: failed at once, not retried.
    candidate = DiscoveryCandidate.objects.get(username=missing)
    assert (candidate.status, candidate.reason, candidate.attempts) == (Status.FAILED, "not_found", 1)

    # The 100 started: related_000..101 but the two complete ones. The 11 big ones (every
    # tenth) ran the whole pipeline and are complete; the 88 other small ones stopped like above.
    done = DiscoveryCandidate.objects.filter(status=Status.DONE)
    assert sorted(done.values_list("username", flat=True)) == [related_name(i) for i in range(0, 101, 10)]
    assert not done.exclude(reason="").exists()
    for candidate in done:
        assert profile_completeness(profile=Profile.objects.get(username=candidate.username)).is_complete
    below = DiscoveryCandidate.objects.filter(status=Status.SKIPPED, reason="below_min_followers")
    assert below.count() == 88
    assert not Post.objects.filter(
        profile__username__in=below.values("username"), ai_analyzed_at__isnull=False
    ).exists()
    # Avatars are none in this dataset: one thumbnail per complete creator, none for the small ones.
    assert ImageAsset.objects.count() == images_before + 11

    # The hour slides: the jobs of 09:00 leave the window at 10:00, so 3 more start then.
    queue.discovery_tick(now=T0 + timedelta(minutes=59, seconds=59))
    assert DiscoveryAttempt.objects.count() == 100
    _run_held(capture, _tick_holding_jobs(capture, T0 + timedelta(hours=1)))
    assert DiscoveryAttempt.objects.count() == 103
    stats = discovery_queue_stats(now=T0 + timedelta(hours=1))
    assert stats["last_hour"]["started"] == 100 and stats["limits"]["hour_left"] == 0  # 97 of 09:01-09:33 + 3
    assert stats["by_status"]["queued"] == 300 - 2 - 103


def test_daily_limit_and_retries_with_backoff(discovery_settings, image_host, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    discovery_settings.DISCOVERY_MAX_PER_DAY = 4
    write_discovery_dataset(discovery_settings.SCRAPER_DATASET_DIR, image_host.base, related=10, followers={})
    run_pipeline(SEED, capture)

    held = _tick_holding_jobs(capture, T0)
    assert _running() == 3
    first = DiscoveryCandidate.objects.filter(status=Status.RUNNING).order_by("id").first()
    # The provider kept failing for the first one (the scrape task's own retries are spent).
    analysis_services.job_fail(job_id=first.job_id, stage="scrape", category="transient", detail="HTTP 503")
    _run_held(capture, held)

    queue.discovery_tick(now=T0 + timedelta(minutes=1))
    first.refresh_from_db()
    assert (first.status, first.reason, first.attempts) == (Status.QUEUED, "retry", 1)
    assert first.next_attempt_at == T0 + timedelta(minutes=1) + discovery_settings.DISCOVERY_RETRY_BACKOFF
    # One more start fits in the day (4), and it is the next candidate, not the one backing off.
    assert DiscoveryAttempt.objects.count() == 4
    assert not DiscoveryAttempt.objects.filter(candidate=first, started_at__gt=T0).exists()

    # Later that day nothing more starts; the next day it does, and the retry is due by then.
    queue.discovery_tick(now=T0 + timedelta(hours=5))
    assert DiscoveryAttempt.objects.count() == 4
    held = _tick_holding_jobs(capture, T0 + timedelta(days=1, minutes=1))
    first.refresh_from_db()
    assert first.attempts == 2 and first.status == Status.RUNNING
    analysis_services.job_fail(job_id=first.job_id, stage="scrape", category="rate_limited", detail="429")
    _run_held(capture, held)
    queue.candidates_reconcile(now=T0 + timedelta(days=1, minutes=2))
    first.refresh_from_db()
    # The backoff doubles after the second failure.
    assert first.next_attempt_at == T0 + timedelta(days=1, minutes=2) + 2 * discovery_settings.DISCOVERY_RETRY_BACKOFF

    # The third failure is the last.
    with capture(execute=False):
        queue.candidates_discover_now(candidate_ids=[first.pk], now=T0 + timedelta(days=1, minutes=3))
    first.refresh_from_db()
    assert first.attempts == 3
    analysis_services.job_fail(job_id=first.job_id, stage="scrape", category="transient", detail="timeout")
    queue.candidates_reconcile(now=T0 + timedelta(days=1, minutes=4))
    first.refresh_from_db()
    assert (first.status, first.reason) == (Status.FAILED, "attempts_exhausted")
    assert "transient" in first.detail


def test_intake_is_idempotent_and_keeps_private_ones_out(
    discovery_settings, image_host, django_capture_on_commit_callbacks
):
    write_discovery_dataset(discovery_settings.SCRAPER_DATASET_DIR, image_host.base, related=5, followers={})
    run_pipeline(SEED, django_capture_on_commit_callbacks)
    seed = Profile.objects.get(username=SEED)
    RelatedProfile.objects.filter(profile=seed, username=related_name(0)).update(is_private=True)

    assert queue.candidates_intake() == 5
    assert queue.candidates_intake() == 0  # the margin before the watermark is read again: nothing new
    private = DiscoveryCandidate.objects.get(username=related_name(0))
    assert (private.status, private.reason, private.found_via) == (Status.SKIPPED, "private", seed)

    # A later scrape of another creator listing a known and a new username adds only the new one.
    other = Profile.objects.create(username="other_creator", followers_count=2000)
    RelatedProfile.objects.create(profile=other, username=related_name(1))
    RelatedProfile.objects.create(profile=other, username="brand_new")
    assert queue.candidates_intake() == 1
    assert DiscoveryCandidate.objects.get(username="brand_new").found_via == other
    assert DiscoveryCandidate.objects.get(username=related_name(1)).found_via == seed


def test_a_user_joining_a_discovery_job_gets_the_whole_pipeline(
    discovery_settings, image_host, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    small = related_name(0)
    write_discovery_dataset(discovery_settings.SCRAPER_DATASET_DIR, image_host.base, related=1, followers={small: 300})
    run_pipeline(SEED, capture)
    held = _tick_holding_jobs(capture, T0)
    candidate = DiscoveryCandidate.objects.get(username=small)
    assert candidate.job.options == {"min_followers": 1000}

    # A brand unlocks the creator while the discovery job waits: it joins the job, which now
    # runs every step although the account is small.
    job, created = analysis_services.job_start(username=small)
    assert not created and job.pk == candidate.job_id and job.options == {}
    _run_held(capture, held)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.COMPLETED
    queue.discovery_tick(now=T0 + timedelta(minutes=1))
    candidate.refresh_from_db()
    assert (candidate.status, candidate.reason) == (Status.DONE, "")


def test_staff_actions_skip_and_discover_now(discovery_settings, image_host, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    small = related_name(0)
    write_discovery_dataset(discovery_settings.SCRAPER_DATASET_DIR, image_host.base, related=4, followers={small: 300})
    run_pipeline(SEED, capture)
    queue.candidates_intake()
    ids = dict(DiscoveryCandidate.objects.values_list("username", "pk"))

    assert queue.candidates_skip(candidate_ids=[ids[related_name(1)]], now=T0) == 1
    skipped = DiscoveryCandidate.objects.get(pk=ids[related_name(1)])
    assert (skipped.status, skipped.reason) == (Status.SKIPPED, "staff")

    # Discover now: outside the limits (none left this hour), the whole pipeline, even for a small account.
    discovery_settings.DISCOVERY_MAX_PER_HOUR = 0
    assert queue.candidates_start(now=T0) == (0, 0)
    with capture(execute=True):
        counts = queue.candidates_discover_now(candidate_ids=[ids[small], ids[related_name(1)]], now=T0)
    assert counts == {"started": 2, "skipped": 0, "untouched": 0}
    queue.candidates_reconcile(now=T0)
    for name in (small, related_name(1)):
        candidate = DiscoveryCandidate.objects.get(username=name)
        assert candidate.status == Status.DONE
        assert candidate.attempt_log.get().forced is True
    assert profile_completeness(profile=Profile.objects.get(username=small)).is_complete
    # Now complete: discovering again only skips it; a running or done one is not skipped by "skip".
    assert queue.candidates_discover_now(candidate_ids=[ids[small]], now=T0) == {
        "started": 0,
        "skipped": 1,
        "untouched": 0,
    }
    assert queue.candidates_skip(candidate_ids=[ids[related_name(1)]], now=T0) == 0


@pytest.mark.django_db(transaction=True)
def test_commands(discovery_settings, image_host, django_capture_on_commit_callbacks):
    """Committed transactions, as in production: each job runs when the tick commits."""
    write_discovery_dataset(discovery_settings.SCRAPER_DATASET_DIR, image_host.base, related=5, followers={})
    run_pipeline(SEED, django_capture_on_commit_callbacks)
    out = io.StringIO()
    call_command("discovery_run", "--once", stdout=out)
    assert "5 taken in, 3 started" in out.getvalue()
    assert "3 done" in out.getvalue()

    out = io.StringIO()
    call_command("discovery_stats", stdout=out)
    text = out.getvalue()
    assert "2 queued, 0 running, 3 done" in text
    assert "last hour: 3 started, 3 done" in text
    assert "100 per hour (97 left)" in text
