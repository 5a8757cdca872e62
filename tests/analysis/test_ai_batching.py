"""Cross-job AI batching: one AI task analyses every job waiting for AI in one engine call.

Creators are copies of the real Apify export under other names and ids, run through the
real scrape and media steps. The broker is the only stand-in: dispatched tasks are recorded
and delivered by the test, in order, as an AI worker would take them off its queue. The
engine is the real rule-based engine, wrapped to count its calls.
"""

from __future__ import annotations

import json
import threading
import zlib
from pathlib import Path

import pytest
from django.db import connection, transaction

from analysis import services, tasks
from analysis.engines import registry
from analysis.engines.rules import RulesEngine
from analysis.models import AnalysisJob
from config.tasks import task_get
from profiles.models import Post, Profile
from tests.pipeline_fixtures import REAL_EXPORT

Status = AnalysisJob.Status


# Claiming several waiting jobs at once needs SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL);
# on SQLite (the embedded default) each job runs alone, which its own test covers.
needs_skip_locked = pytest.mark.skipif(
    not connection.features.has_select_for_update_skip_locked, reason="needs SELECT ... FOR UPDATE SKIP LOCKED"
)


class CountingEngine:
    """The real rule-based engine, recording the post keys of each ``analyse`` call."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[list[str]] = []
        self.during = None  # called inside the next analyse call, as another worker would act

    @property
    def version(self) -> str:
        return self.inner.version

    def analyse(self, posts):
        self.calls.append([post.key for post in posts])
        during, self.during = self.during, None
        if during is not None:
            during()
        return self.inner.analyse(posts)


class Broker:
    """Records what the pipeline queues; ``deliver`` runs the queued messages of one task."""

    def __init__(self) -> None:
        self.messages: list[tuple[object, str]] = []

    def dispatch(self, task_name: str, job_id: str) -> None:
        self.messages.append((task_name, job_id))

    def deliver(self, task, run=lambda fn: fn()) -> int:
        mine = [m for m in self.messages if m[0] == task.name]
        self.messages = [m for m in self.messages if m[0] != task.name]
        for _, job_id in mine:
            run(lambda job_id=job_id: task(job_id))
        return len(mine)


@pytest.fixture
def broker(monkeypatch):
    queue = Broker()
    monkeypatch.setattr(services, "pipeline_dispatch", queue.dispatch)
    return queue


@pytest.fixture
def engine(monkeypatch, pipeline_settings):
    counting = CountingEngine(RulesEngine())
    monkeypatch.setitem(registry._engines, "rules", counting)
    return counting


def add_creator(dataset_dir: Path, image_base: str, username: str) -> None:
    """The real export as another creator: its own username, ids, captions and image URLs."""
    number = zlib.crc32(username.encode()) % 10_000
    text = REAL_EXPORT.read_text(encoding="utf-8").replace("https://scontent", f"{image_base}{username}/scontent")
    data = json.loads(text)
    profile = data[0]
    profile["username"], profile["id"] = username, f"91{number:04d}0000"
    for index, post in enumerate(profile["latestPosts"]):
        post["id"], post["shortCode"] = f"91{number:04d}{index:04d}", f"C{number:03d}X{index:02d}"
        post["ownerUsername"], post["ownerId"] = username, profile["id"]
        post["caption"] = f"{post.get('caption') or ''} (as told to @{username})"
    (dataset_dir / f"{username}-details.json").write_text(json.dumps(data), encoding="utf-8")


def ready_jobs(settings, image_host, broker, usernames, run=lambda fn: fn()) -> list[AnalysisJob]:
    """Start a job per creator and run its scrape and media steps: each waits for AI."""
    dataset = Path(settings.SCRAPER_DATASET_DIR)
    jobs = []
    for username in usernames:
        add_creator(dataset, image_host.base, username)
        jobs.append(run(lambda username=username: services.job_start(username=username)[0]))
    assert broker.deliver(tasks.scrape_profile, run) == len(usernames)
    assert broker.deliver(tasks.store_media, run) == len(usernames)
    for job in jobs:
        job.refresh_from_db()
        assert (job.status, job.ai_started_at) == (Status.STORING_MEDIA, None)
        assert job.media_finished_at is not None
    assert [job_id for _, job_id in broker.messages] == [str(job.pk) for job in jobs]  # AI queued for each
    return jobs


def events(job: AnalysisJob) -> list[tuple[str, str]]:
    return list(job.events.order_by("id").values_list("status", "message"))


@pytest.mark.django_db
class TestOneTaskAnalysesEveryWaitingJob:
    @pytest.fixture
    def run(self, django_capture_on_commit_callbacks):
        def run(fn):
            with django_capture_on_commit_callbacks(execute=True):
                return fn()

        return run

    @needs_skip_locked
    def test_one_engine_call_for_all_jobs_each_ending_with_its_own_events(
        self, pipeline_settings, image_host, broker, engine, run
    ):
        jobs = ready_jobs(pipeline_settings, image_host, broker, ["creator_a", "creator_b", "creator_c"], run)
        first = broker.messages.pop(0)
        seen_mid_batch = {}

        def own_task_of_b_mid_batch() -> None:
            # B's own AI task, delivered to another worker while the batch that claimed B runs.
            seen_mid_batch["status"] = AnalysisJob.objects.get(pk=jobs[1].pk).status
            seen_mid_batch["result"] = tasks.analyse_posts(str(jobs[1].pk))
            seen_mid_batch["events"] = events(jobs[1])

        engine.during = own_task_of_b_mid_batch
        run(lambda: task_get(first[0])(first[1]))

        assert len(engine.calls) == 1
        assert seen_mid_batch["status"] == Status.ANALYSING and seen_mid_batch["result"] is None
        assert seen_mid_batch["events"][-1] == ("analysing", "ai started")  # the no-op added nothing
        post_keys = {
            str(pk) for pk in Post.objects.filter(profile__username__startswith="creator_").values_list("pk", flat=True)
        }
        assert len(post_keys) == 36 and set(engine.calls[0]) == post_keys
        for job in jobs:
            job.refresh_from_db()
            assert job.status == Status.COMPLETED, (job.error_category, job.error_detail)
            assert job.progress == 100
            assert job.media_finished_at <= job.ai_started_at <= job.ai_finished_at <= job.finished_at
            assert job.result["ai"]["analysed"] == 12
            assert job.result["ai"]["batch"] == {"leader": str(jobs[0].pk), "jobs": 3, "posts": 36}
            assert events(job)[-3:] == [
                ("analysing", "ai started"),
                ("analysing", "analysed 12 posts"),
                ("completed", "completed"),
            ]
            profile = Profile.objects.get(username=job.username)
            assert profile.posts.filter(ai_analyzed_at__isnull=False).count() == 12
            assert profile.ai_primary_content_type and profile.ai_profile_analyzed_at
            for post in profile.posts.all():
                assert post.caption.endswith(f"(as told to @{job.username})")  # its own results
                assert post.ai_analysis_raw["engine"] == "rules"

        # The other jobs' own AI tasks (and the first one again) find nothing left to do.
        before = {job.pk: (events(job), AnalysisJob.objects.get(pk=job.pk).updated_at) for job in jobs}
        broker.deliver(tasks.analyse_posts, run)
        run(lambda: tasks.analyse_posts(str(jobs[0].pk)))
        assert len(engine.calls) == 1
        for job in jobs:
            assert (events(job), AnalysisJob.objects.get(pk=job.pk).updated_at) == before[job.pk]

    @needs_skip_locked
    @pytest.mark.parametrize(("max_jobs", "max_posts", "first_batch"), [(2, 64, 2), (8, 20, 1), (1, 64, 1)])
    def test_limits_on_jobs_and_posts(
        self, pipeline_settings, image_host, broker, engine, run, max_jobs, max_posts, first_batch
    ):
        pipeline_settings.AI_BATCH_MAX_JOBS = max_jobs
        pipeline_settings.AI_BATCH_MAX_POSTS = max_posts
        jobs = ready_jobs(pipeline_settings, image_host, broker, ["creator_a", "creator_b", "creator_c"], run)
        broker.deliver(tasks.analyse_posts, run)

        # The first task takes the oldest waiting jobs; the tasks of the rest run them.
        sizes = [len(call) for call in engine.calls]
        assert sizes[0] == 12 * first_batch and sum(sizes) == 36
        assert len(sizes) == 3 - first_batch + 1
        for job in jobs:
            job.refresh_from_db()
            assert job.status == Status.COMPLETED
            assert sum(1 for _, message in events(job) if message == "ai started") == 1

    def test_without_row_locks_each_job_runs_alone(
        self, pipeline_settings, image_host, broker, engine, run, monkeypatch
    ):
        # SQLite (the embedded default) cannot skip locked rows, so a claim could race another worker's.
        monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", False)
        jobs = ready_jobs(pipeline_settings, image_host, broker, ["creator_a", "creator_b"], run)
        broker.deliver(tasks.analyse_posts, run)
        assert [len(call) for call in engine.calls] == [12, 12]
        for job in jobs:
            job.refresh_from_db()
            assert job.status == Status.COMPLETED and job.result["ai"]["batch"]["jobs"] == 1

    @needs_skip_locked
    def test_a_job_whose_save_fails_fails_alone(self, pipeline_settings, image_host, broker, engine, run, monkeypatch):
        jobs = ready_jobs(pipeline_settings, image_host, broker, ["creator_a", "creator_b", "creator_c"], run)
        aggregate = services.profile_aggregate

        def failing_for_b(*, profile, engine_version):
            if profile.username == "creator_b":
                raise RuntimeError("disk full")
            aggregate(profile=profile, engine_version=engine_version)

        monkeypatch.setattr(services, "profile_aggregate", failing_for_b)
        broker.deliver(tasks.analyse_posts, run)

        assert len(engine.calls) == 1
        a, b, c = (AnalysisJob.objects.get(pk=job.pk) for job in jobs)
        assert a.status == c.status == Status.COMPLETED
        assert (b.status, b.error_stage, b.error_category) == (Status.FAILED, "ai", "internal")
        assert "disk full" in b.error_detail
        # B's results were saved with its step, all or nothing: none of them.
        assert not Post.objects.filter(profile__username="creator_b", ai_analyzed_at__isnull=False).exists()
        assert Post.objects.filter(profile__username="creator_c", ai_analyzed_at__isnull=False).count() == 12

    @needs_skip_locked
    def test_an_engine_failure_fails_every_claimed_job(self, pipeline_settings, image_host, broker, engine, run):
        jobs = ready_jobs(pipeline_settings, image_host, broker, ["creator_a", "creator_b"], run)

        def broken(posts):
            raise RuntimeError("model crashed")

        engine.inner.analyse = broken
        with pytest.raises(RuntimeError, match="model crashed"):
            broker.deliver(tasks.analyse_posts, run)
        for job in jobs:
            job.refresh_from_db()
            assert (job.status, job.error_stage) == (Status.FAILED, "ai")
            assert "model crashed" in job.error_detail

    @needs_skip_locked
    def test_a_reanalysis_job_waits_for_ai_from_the_start(self, pipeline_settings, image_host, broker, engine, run):
        [done] = ready_jobs(pipeline_settings, image_host, broker, ["creator_a"], run)
        broker.deliver(tasks.analyse_posts, run)
        [fresh] = ready_jobs(pipeline_settings, image_host, broker, ["creator_b"], run)
        staff = run(lambda: services.profile_reanalyse(profile=Profile.objects.get(username="creator_a")))
        assert (staff.status, staff.steps) == (Status.QUEUED, ["ai"])
        assert [job_id for _, job_id in broker.messages] == [str(fresh.pk), str(staff.pk)]
        calls = len(engine.calls)

        broker.deliver(tasks.analyse_posts, run)

        assert len(engine.calls) == calls + 1 and len(engine.calls[-1]) == 24  # 12 new + 12 again (forced)
        for job in (fresh, staff):
            job.refresh_from_db()
            assert job.status == Status.COMPLETED and job.result["ai"]["batch"]["jobs"] == 2
        assert done.pk != staff.pk


@needs_skip_locked
@pytest.mark.django_db(transaction=True)
def test_a_job_locked_by_another_transaction_is_not_claimed(pipeline_settings, image_host, broker, engine):
    a, b, c = ready_jobs(pipeline_settings, image_host, broker, ["creator_a", "creator_b", "creator_c"])
    locked, release, released = threading.Event(), threading.Event(), threading.Event()

    def hold_b() -> None:
        # Another worker's transaction, on its own connection, holding B's row.
        try:
            with transaction.atomic():
                AnalysisJob.objects.select_for_update().get(pk=b.pk)
                locked.set()
                release.wait(timeout=60)
            released.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_b)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        tasks.analyse_posts(str(a.pk))  # does not wait for B's lock: skips it
        assert not released.is_set()
    finally:
        release.set()
        holder.join(timeout=10)

    assert len(engine.calls) == 1 and len(engine.calls[0]) == 24
    a, b, c = (AnalysisJob.objects.get(pk=job.pk) for job in (a, b, c))
    assert a.status == c.status == Status.COMPLETED
    assert a.result["ai"]["batch"]["jobs"] == c.result["ai"]["batch"]["jobs"] == 2
    assert (b.status, b.ai_started_at) == (Status.STORING_MEDIA, None)

    tasks.analyse_posts(str(b.pk))  # B's own task, once the lock is gone
    b.refresh_from_db()
    assert b.status == Status.COMPLETED and b.result["ai"]["batch"]["jobs"] == 1
    assert len(engine.calls) == 2
