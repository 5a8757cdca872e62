"""End to end: the real Apify export through scrape -> CDN -> AI, on the real database."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from PIL import Image

from analysis import services
from analysis.models import AnalysisJob
from analysis.selectors import repair_steps
from cdn.models import ImageAsset
from profiles.models import Post, Profile, ProfileSnapshot, RelatedProfile
from profiles.selectors.completeness import profile_completeness
from tests.pipeline_fixtures import REAL_EXPORT, real_export

pytestmark = pytest.mark.django_db


def _run(username: str, capture, **kwargs) -> AnalysisJob:
    with capture(execute=True):
        job, _ = services.job_start(username=username, **kwargs)
    job.refresh_from_db()
    return job


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_real_export_becomes_a_complete_creator(pipeline_settings, django_capture_on_commit_callbacks):
    job = _run("humansofny", django_capture_on_commit_callbacks)

    assert job.status == AnalysisJob.Status.COMPLETED, (job.error_category, job.error_detail, job.result)
    assert job.progress == 100
    assert job.scrape_started_at <= job.scrape_finished_at <= job.media_started_at
    assert job.media_finished_at <= job.ai_started_at <= job.ai_finished_at <= job.finished_at
    statuses = list(job.events.values_list("status", flat=True))
    assert statuses[0] == "queued" and statuses[-1] == "completed"
    assert {"scraping", "storing_media", "analysing"} <= set(statuses)

    profile = Profile.objects.get(username="humansofny")
    source = real_export()
    assert profile.followers_count == source["followersCount"] == 12765763
    assert profile.posts.count() == 12
    assert profile_completeness(profile=profile).is_complete
    for post in profile.posts.all():
        assert post.ai_sentiment in {"positive", "neutral", "negative"}
        assert -1 <= post.ai_sentiment_score <= 1
        assert post.ai_language_code and post.ai_content_category
        assert post.ai_analysis_raw["engine"] == "rules"
        assert post.cdn_thumbnail_url.startswith("https://cdn.example.test/")
    assert profile.cdn_avatar_url.startswith("https://cdn.example.test/")
    assert RelatedProfile.objects.filter(profile=profile).count() == 80
    assert ProfileSnapshot.objects.filter(profile=profile).count() == 1
    assert profile.ai_primary_content_type and profile.ai_profile_analyzed_at
    assert abs(sum(profile.ai_content_distribution.values()) - 1) < 1e-3
    assert abs(sum(profile.ai_language_distribution.values()) - 1) < 1e-3
    assert 0 <= profile.ai_content_quality_score <= 1

    # 12 thumbnails and the avatar, stored as WebP renditions of the right size.
    assets = ImageAsset.objects.filter(status="ready")
    assert assets.filter(kind="thumbnail").count() == 12 and assets.filter(kind="avatar").count() == 1
    files = _media_files(pipeline_settings)
    assert len(files) == 13
    for path in files:
        with Image.open(path) as image:
            assert image.format == "WEBP"
            assert max(image.size) in (320, 640)
    assert job.result["completeness"]["is_complete"] is True


def test_running_again_duplicates_nothing(pipeline_settings, image_host, django_capture_on_commit_callbacks):
    first = _run("humansofny", django_capture_on_commit_callbacks)
    assert first.status == "completed"
    counts = (Post.objects.count(), RelatedProfile.objects.count(), ImageAsset.objects.count())
    files, hits = _media_files(pipeline_settings), image_host.total_hits

    second = _run("humansofny", django_capture_on_commit_callbacks)

    assert second.pk != first.pk and second.status == "completed"
    assert (Post.objects.count(), RelatedProfile.objects.count(), ImageAsset.objects.count()) == counts
    assert _media_files(pipeline_settings) == files
    assert image_host.total_hits == hits, "a re-run downloads nothing new"
    assert second.result["media"]["requested"] == 0 and second.result["ai"]["analysed"] == 0


def test_unknown_creator_fails_not_found(pipeline_settings, django_capture_on_commit_callbacks):
    job = _run("no.such.creator", django_capture_on_commit_callbacks)
    assert job.status == AnalysisJob.Status.FAILED
    assert (job.error_stage, job.error_category) == ("scrape", "not_found")
    assert job.finished_at is not None


def test_image_host_down_ends_partial_and_repair_completes(
    pipeline_settings, image_host, django_capture_on_commit_callbacks
):
    image_host.down = True
    job = _run("humansofny", django_capture_on_commit_callbacks)
    assert job.status == AnalysisJob.Status.PARTIAL
    assert len(job.result["media"]["failed"]) == 13
    completeness = profile_completeness(profile=job.profile)
    assert completeness.missing == ["posts_thumbnails"] and repair_steps(completeness=completeness) == ["media"]
    assert ImageAsset.objects.filter(status="failed").count() == 13

    image_host.down = False
    with django_capture_on_commit_callbacks(execute=True):
        call_command("repair_profile_completeness", "--repair")
    repair = AnalysisJob.objects.filter(trigger=AnalysisJob.Trigger.REPAIR).get()
    assert repair.steps == ["media"] and repair.status == AnalysisJob.Status.COMPLETED
    assert profile_completeness(profile=job.profile).is_complete


def test_one_active_job_per_username(pipeline_settings):
    first, created = services.job_start(username="@HumansOfNY")  # on_commit not run: stays queued
    second, created_again = services.job_start(username="humansofny")
    assert created and not created_again and first.pk == second.pk
    assert first.username == "humansofny"
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisJob.objects.create(username="humansofny", steps=["scrape"])


def test_a_step_delivered_twice_changes_nothing(pipeline_settings, django_capture_on_commit_callbacks):
    job = _run("humansofny", django_capture_on_commit_callbacks)
    events = job.events.count()
    assert services.job_run_scrape(job_id=job.pk) is None
    assert services.job_run_media(job_id=job.pk) is None
    assert services.job_run_ai(job_id=job.pk) is None
    assert job.events.count() == events


def test_invalid_username_is_refused(pipeline_settings):
    from config.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.job_start(username="not a username!")


class _FlakyApify:
    """A local stand-in for Apify's run-sync endpoint: answers 503 ``failures`` times first."""

    def __init__(self, body: bytes, failures: int, status: int = 200) -> None:
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.calls += 1
                if outer.calls <= failures:
                    self.send_response(503)
                    self.end_headers()
                    return
                payload = body if status == 200 else json.dumps([]).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(("failures", "status", "expected"), [(2, 200, "completed"), (0, 404, "failed")])
def test_apify_provider_transient_and_permanent_errors(
    pipeline_settings, django_capture_on_commit_callbacks, monkeypatch, failures, status, expected
):
    from config.celery import app

    # Eager Celery runs a retry at once only when errors are not propagated (a worker re-queues).
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    export = Path(pipeline_settings.SCRAPER_DATASET_DIR) / REAL_EXPORT.name  # images on the local host
    apify = _FlakyApify(export.read_bytes(), failures, status)
    pipeline_settings.SCRAPER_PROVIDER = "apify"
    pipeline_settings.APIFY_BASE_URL = apify.url
    pipeline_settings.APIFY_TOKEN = "test-token"
    try:
        job = _run("humansofny", django_capture_on_commit_callbacks)
    finally:
        apify.close()
    assert job.status == expected, (job.error_category, job.error_detail)
    if expected == "failed":
        assert job.error_category == "not_found"
    else:
        assert apify.calls == 3
