"""Discovery fixtures: the 45 real creators of the gooper export plus the sample creator.

They are loaded once per module with the dataset provider's parser (``load_export``) and the
profile services, analysed with the rules AI engine (the pipeline's own AI step and
aggregation) and their search fields stored by ``profile_pipeline_finished``, as the
pipeline does. Nothing is invented: the export's missing likes, counts and dates stay
unknown. Tests read them and roll their own writes back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from credits.services import credits_grant
from profiles.models import Profile
from profiles.providers.dataset import load_export
from profiles.providers.normalize import parse_export
from tests.factories import account_of

REPO = Path(__file__).resolve().parents[2]
GOOPER = REPO.parent / "shared" / "data" / "apify" / "gooper-45-creators.json"
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


@pytest.fixture(scope="session")
def creators(django_db_setup, django_db_blocker):
    """The 46 creators, committed for the session (deleted after it)."""
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
