"""A dataset of one seed creator with many related creators, served by the dataset provider.

The related creators are Apify details items like the real export's (biography, counts, one
post with an image on the local image host), generated so that the queue has hundreds of
creators to discover; the seed creator's scrape stores them as its related profiles.
"""

from __future__ import annotations

import json
import shutil
import zlib

import pytest

from analysis import services as analysis_services
from analysis.models import AnalysisJob

SEED = "seed_creator"


def related_name(index: int) -> str:
    return f"related_{index:03d}"


def _details(username: str, followers: int, image_base: str, related: list[str] = ()) -> dict:
    return {
        "id": str(7_000_000_000 + zlib.crc32(username.encode())),
        "username": username,
        "fullName": username.replace("_", " ").title(),
        "biography": f"Creator {username}: travel and food in Lisbon.",
        "followersCount": followers,
        "followsCount": 210,
        "postsCount": 1,
        "private": False,
        "latestPosts": [
            {
                "id": str(3_100_000_000_000 + zlib.crc32(username.encode())),
                "shortCode": f"S{username[-3:]}x",
                "type": "Image",
                "caption": f"Sunset over the river #lisbon #{username}",
                "hashtags": ["lisbon", username],
                "likesCount": 120,
                "commentsCount": 8,
                "timestamp": "2026-11-20T18:00:00.000Z",
                "displayUrl": f"{image_base}{username}.jpg",
            }
        ],
        "relatedProfiles": [{"username": name, "full_name": name, "is_private": False} for name in related],
    }


def write_discovery_dataset(directory, image_base: str, *, related: int, followers: dict[str, int], missing=()):
    """The seed creator listing ``related`` creators; each is in the dataset unless in ``missing``."""
    names = [related_name(i) for i in range(related)]
    items = [_details(SEED, 50_000, image_base, names)]
    items += [_details(name, followers.get(name, 5_000), image_base) for name in names if name not in missing]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "discovery-dataset.json").write_text(json.dumps(items), encoding="utf-8")
    return names


@pytest.fixture
def discovery_settings(settings, tmp_path, image_host):
    settings.SCRAPER_PROVIDER = "dataset"
    settings.SCRAPER_DATASET_DIR = tmp_path / "dataset"
    settings.CDN_ALLOW_PRIVATE_SOURCES = True
    settings.CDN_BASE_URL = "https://cdn.example.test"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AI_ENGINE = "rules"
    settings.PIPELINE_EAGER_THREAD = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.DISCOVERY_MAX_RUNNING = 3
    settings.DISCOVERY_MAX_PER_HOUR = 100
    settings.DISCOVERY_MAX_PER_DAY = 1000
    settings.DISCOVERY_MAX_ATTEMPTS = 3
    settings.DISCOVERY_MIN_FOLLOWERS = 1000
    yield settings
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


def run_pipeline(username: str, capture) -> AnalysisJob:
    """A user-style analysis of ``username`` run to its end (every step, in this thread)."""
    with capture(execute=True):
        job, _ = analysis_services.job_start(username=username, trigger=AnalysisJob.Trigger.COMMAND)
    job.refresh_from_db()
    return job
