"""The bundled sample dataset: the real export of 45 small creators (``gooper-45-creators.json``).

It has biographies, categories, follower counts and 5 captions per creator, but no
``postsCount``, likes, comments, timestamps or post ids. What is missing is stored as unknown
(null), never as 0, and such a creator is complete on what it has.
"""

from __future__ import annotations

import json
import shutil

import pytest
from django.conf import settings as django_settings

from analysis import services as analysis_services
from analysis.models import AnalysisJob
from profiles.models import Post, Profile
from profiles.providers.dataset import dataset_index
from profiles.selectors.completeness import profile_completeness
from profiles.selectors.report import report_get

SAMPLE_DIR = django_settings.BASE_DIR / "sample_data"
GOOPER = SAMPLE_DIR / "gooper-45-creators.json"


@pytest.fixture
def sample_settings(settings, tmp_path):
    """The dataset provider on the bundled folder (as `make run`), media in tmp."""
    settings.SCRAPER_PROVIDER = "dataset"
    settings.SCRAPER_DATASET_DIR = SAMPLE_DIR
    settings.CDN_LOCAL_SOURCE_ROOTS = [str(SAMPLE_DIR)]
    settings.CDN_BASE_URL = "https://cdn.example.test"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AI_ENGINE = "rules"
    settings.PIPELINE_EAGER_THREAD = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield settings
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


def test_every_creator_of_the_export_is_in_the_dataset():
    source = json.loads(GOOPER.read_text(encoding="utf-8"))
    index = dataset_index(SAMPLE_DIR)
    assert len(source) == 45 and "humansofny" in index
    for item in source:
        scraped = index[item["username"]]
        assert scraped.followers_count == item["followersCount"] and scraped.biography == item["biography"]
        assert scraped.category == (item["businessCategoryName"] or "")
        assert scraped.posts_count is None  # no postsCount in the export: unknown
        assert len(scraped.posts) == 5 and len({post.instagram_post_id for post in scraped.posts}) == 5
        for post in scraped.posts:
            assert (post.likes_count, post.comments_count, post.posted_at) == (None, None, None)
            assert post.display_url.startswith("file://") and post.caption is not None
    # 143 of the 225 image URLs carried Instagram's media id; the others a hash of the image path
    ids = [post.instagram_post_id for item in source for post in index[item["username"]].posts]
    assert sum(i.isdigit() for i in ids) == 143 and sum(i.startswith("img-") for i in ids) == 82


@pytest.mark.django_db
def test_a_creator_without_counts_is_complete_on_what_it_has(sample_settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = analysis_services.job_start(username="marco_torosantucci", trigger=AnalysisJob.Trigger.COMMAND)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.COMPLETED, (job.error_category, job.error_detail, job.result)

    profile = Profile.objects.get(username="marco_torosantucci")
    assert (profile.followers_count, profile.posts_count, profile.category) == (9559, None, "Entrepreneur")
    completeness = profile_completeness(profile=profile)
    assert completeness.is_complete and completeness.required_posts == 5
    assert Post.objects.filter(profile=profile, likes_count__isnull=True, comments_count__isnull=True).count() == 5
    assert Post.objects.filter(profile=profile, instagram_post_id="3453375304220911500").exists()
    assert not Post.objects.filter(profile=profile, ai_analyzed_at__isnull=True).exists()

    report = report_get(profile_id=profile.pk)
    assert report["overview"]["posts_count"] is None
    engagement = report["engagement"]
    # Unknown, not 0 %: no like or comment count is known.
    assert engagement["engagement_rate"] is None
    assert engagement["mean_likes"] is None and engagement["median_comments"] is None
    assert {post["likes_count"] for post in report["posts"]} == {None}
    assert {post["engagement_rate"] for post in report["posts"]} == {None}
