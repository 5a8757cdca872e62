"""A Celery worker killed (SIGKILL, the whole worker) in the middle of a job, real broker.

The broker is a Redis the test starts on a spare port; the worker runs the real pipeline
(dataset provider, a slow local image host, the rules engine). While the job stores its
media the worker is killed; its task was never acknowledged (``acks_late``), so a new worker
gets it again after the visibility timeout (3 s here, ``CELERY_VISIBILITY_TIMEOUT``). The job
completes once: one profile, each post once, each image once, one ``completed`` event; and
the unlock that paid for it is charged once and never refunded (a retried job is not a
failed one), its access intact.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from django.db import connection

from analysis.models import AnalysisJob
from cdn.models import ImageAsset
from credits.models import CreditTransaction, Wallet
from credits.services import credits_grant, credits_spend
from profiles.models import Post, Profile, TeamProfileAccess
from profiles.services.access import access_grant
from profiles.services.creators import profile_get_or_create
from tests.factories import UserFactory, team_of
from tests.pipeline_fixtures import write_export
from tests.reliability import procs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLITE: the worker needs the test's database"),
    pytest.mark.skipif(procs.redis_server_path() is None, reason="redis-server is not installed"),
    pytest.mark.django_db(transaction=True),
]


def _worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [str(procs.VENV_BIN / "celery"), "-A", "config", "worker", "-Q", "default,scrape,cdn,ai", "-c", "1",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"],
        cwd=procs.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_job_the_job_completes_once(tmp_path, image_host):
    image_host.delay = 0.4
    dataset = tmp_path / "dataset"
    write_export(dataset, image_host.base)
    with procs.redis_server() as (port, _redis):
        env = procs.app_env(
            CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0",
            # the base settings: the test settings force eager tasks (each step its own task here)
            DJANGO_SETTINGS_MODULE="config.settings.base",
            CELERY_TASK_ALWAYS_EAGER="false",
            REDIS_URL=f"redis://127.0.0.1:{port}/1",
            SCRAPER_PROVIDER="dataset",
            SCRAPER_DATASET_DIR=str(dataset),
            CDN_ALLOW_PRIVATE_SOURCES="true",
            MEDIA_ROOT=str(tmp_path / "media"),
            AI_ENGINE="rules",
            CELERY_VISIBILITY_TIMEOUT="3",
            CELERY_BROKER_TRANSPORT_EXTRA=json.dumps({"unacked_restore_interval": 1, "unacked_restore_throttle": 1}),
        )
        # A paid unlock, as the credit gate records it: the charge and the access, then its job.
        user = UserFactory()
        team = team_of(user)
        credits_grant(account_id=team.pk, amount=500, reason="test", idempotency_key="grant-worker-kill")
        credits_spend(
            account_id=team.pk, actor=user, action_type="influencer_unlock", reference="profile:humansofny",
            idempotency_key="unlock-worker-kill",
        )  # fmt: skip
        access_grant(team=team, profile=profile_get_or_create(username="humansofny"), granted_by=user)
        balance = Wallet.objects.get(account_id=team.pk).balance
        job = AnalysisJob.objects.create(
            username="humansofny", steps=["scrape", "media", "ai"], requested_by=user, team=team, trigger="user"
        )
        from celery import Celery

        sender = Celery(broker=env["CELERY_BROKER_URL"])
        sender.send_task("analysis.tasks.scrape_profile", args=[str(job.pk)], queue="scrape")
        log = open(tmp_path / "worker.log", "wb")
        first = _worker(env, log)
        try:
            _wait(lambda: image_host.total_hits >= 2, 90, "the media step to start")
            os.killpg(first.pid, signal.SIGKILL)  # the whole worker, mid-task
            first.wait(timeout=10)
            job.refresh_from_db()
            assert job.status == "storing_media", job.status
            second = _worker(env, log)
            try:
                _wait(
                    lambda: AnalysisJob.objects.get(pk=job.pk).status in AnalysisJob.TERMINAL_STATUSES, 120, "the job"
                )
            finally:
                os.killpg(second.pid, signal.SIGTERM)
                second.wait(timeout=20)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
            log.close()
    job.refresh_from_db()
    assert job.status == "completed", (job.status, job.error_detail, (tmp_path / "worker.log").read_text()[-3000:])
    profile = Profile.objects.get(username="humansofny")
    assert Profile.objects.filter(username="humansofny").count() == 1
    posts = Post.objects.filter(profile=profile)
    assert posts.count() == 12 and posts.values("instagram_post_id").distinct().count() == 12
    assets = ImageAsset.objects.all()
    assert assets.count() == assets.values("source_url").distinct().count()
    assert job.events.filter(message="completed").count() == 1
    assert AnalysisJob.objects.count() == 1
    # The unlock: charged once (the Free plan's quota or credits), never refunded, access kept.
    ledger = CreditTransaction.objects.filter(wallet__account_id=team.pk, reference="profile:humansofny")
    assert ledger.filter(kind="spend").count() == 1 and not ledger.filter(kind="refund").exists()
    assert Wallet.objects.get(account_id=team.pk).balance == balance
    assert TeamProfileAccess.objects.filter(team=team, profile=profile).count() == 1
