"""Discovery fixtures: the 45 real creators of the gooper export plus the sample creator, and
a generated dataset of one seed creator with hundreds of related creators (the queue's tests).

They are loaded once per module with the dataset provider's parser (``load_export``) and the
profile services, analysed with the rules AI engine (the pipeline's own AI step and
aggregation) and their search fields stored by ``profile_pipeline_finished``, as the
pipeline does. Nothing is invented: the export's missing likes, counts and dates stay
unknown. Tests read them and roll their own writes back.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zlib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from analysis import services as analysis_services
from analysis.models import AnalysisJob
from credits.services import credits_grant
from profiles.models import Profile
from profiles.providers.dataset import load_export
from profiles.providers.normalize import parse_export
from tests.factories import account_of

REPO = Path(__file__).resolve().parents[2]
# The real export; the copy bundled in sample_data (same creators, local pictures) when the
# shared data folder is not beside the checkout (a fresh clone elsewhere).
_SHARED_GOOPER = REPO.parent / "shared" / "data" / "apify" / "gooper-45-creators.json"
GOOPER = _SHARED_GOOPER if _SHARED_GOOPER.is_file() else REPO / "sample_data" / "gooper-45-creators.json"
SAMPLE = REPO / "tests" / "fixtures" / "apify" / "humansofny-details.json"
CAPTURED = timezone.now() - timedelta(days=1)
# Followers 35 days ago of three creators (current: 9559, 8255, 7776 in the export).
OLD_FOLLOWERS = {"marco_torosantucci": 9000, "letiziacanclini": 8000, "realverano": 7800}


def analyse(profile: Profile) -> None:
    """The pipeline's AI step (rules engine), aggregation and end, for one stored profile."""
    from analysis.engines.registry import get_engine
    from analysis.services import posts_analyse, profile_aggregate
    from profiles import services

    engine = get_engine("rules")
    posts = list(profile.posts.all())
    services.posts_ai_results_save(results=posts_analyse(posts=posts, engine=engine))
    profile_aggregate(profile=profile, engine_version=engine.version)
    profile.refresh_from_db()
    services.profile_pipeline_finished(profile=profile)


def load_creators() -> list[str]:
    from profiles.services import profile_upsert_from_scrape

    data = json.loads(GOOPER.read_text(encoding="utf-8"))
    for item in data:
        for post in item.get("latestPosts") or []:
            if not (post.get("id") or post.get("shortCode")):
                post["id"] = str(int(hashlib.sha256(post["displayUrl"].encode()).hexdigest()[:15], 16))
    scraped, problems = parse_export(data)
    sample, sample_problems = load_export(SAMPLE)
    assert not problems and not sample_problems, (problems, sample_problems)
    scraped += sample
    for item in scraped:
        if item.username in OLD_FOLLOWERS:
            # An earlier scrape, 35 days ago: follower growth over 30 days is known for these.
            past = replace(item, followers_count=OLD_FOLLOWERS[item.username])
            profile_upsert_from_scrape(scraped=past, captured_at=CAPTURED - timedelta(days=34))
        profile = profile_upsert_from_scrape(scraped=item, captured_at=CAPTURED)
        analyse(profile)
    return [item.username for item in scraped]


@pytest.fixture(scope="module")
def creators(django_db_setup, django_db_blocker):
    """The 46 creators, committed for the module (deleted after it: later modules start empty)."""
    if not GOOPER.is_file():
        pytest.skip(f"the real export {GOOPER} is not available")
    with django_db_blocker.unblock():
        Profile.objects.all().delete()
        usernames = load_creators()
        yield usernames
        Profile.objects.all().delete()


@pytest.fixture
def fund():
    def _fund(user, amount: int, key: str = "seed-grant"):
        return credits_grant(account_id=account_of(user), amount=amount, reason="test funding", idempotency_key=key)

    return _fund


# --- The related-creator queue: a generated dataset -------------------------------------------
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
