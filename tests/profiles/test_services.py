"""profile_upsert_from_scrape, profile_scrape, username_clean and provider_call_record."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from config.errors import ValidationFailed
from profiles.models import Post, Profile, ProfileSnapshot, ProviderCall, RelatedProfile
from profiles.providers.base import CallInfo, ProfileNotFound, ScrapedProfile, ScrapedRelated
from profiles.providers.normalize import parse_export, profile_from_details
from profiles.services import (
    profile_scrape,
    profile_upsert_from_scrape,
    profiles_import,
    provider_call_record,
    username_clean,
)
from tests.factories import PostFactory, ProfileFactory
from tests.profiles.conftest import SAMPLE_DIR

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 11, 1, 12, 0, tzinfo=UTC)


def _counts() -> tuple[int, int, int, int]:
    return (
        Profile.objects.count(),
        Post.objects.count(),
        RelatedProfile.objects.count(),
        ProfileSnapshot.objects.count(),
    )


@pytest.fixture
def scraped(real_export) -> ScrapedProfile:
    return profile_from_details(real_export[0])


def test_upsert_stores_everything(scraped):
    profile = profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    profile.refresh_from_db()
    assert profile.username == "humansofny" and profile.instagram_id == "242598499"
    assert (profile.followers_count, profile.following_count, profile.posts_count) == (12765763, 433, 5715)
    assert profile.is_verified and profile.category == "Arts & Humanities Website"
    assert profile.last_scraped_at == T0
    assert _counts() == (1, 12, 80, 1)
    post = Post.objects.get(shortcode="Cxn7w_xOqZT")
    assert post.profile == profile and post.is_pinned and post.mentions == ["humansofamsterdam"]
    assert post.posted_at == datetime(2023, 9, 25, 17, 56, 24, tzinfo=UTC)
    assert Post.objects.get(shortcode="DBZKNRquEOJ").video_view_count == 2387793
    assert list(profile.related_profiles.values_list("username", "position")[:2]) == [
        ("npr", 0),
        (scraped.related[1].username, 1),
    ]
    snapshot = profile.snapshots.get()
    assert (snapshot.followers_count, snapshot.captured_at) == (12765763, T0)


def test_upsert_twice_is_idempotent(scraped):
    profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    ids = set(Post.objects.values_list("id", flat=True))
    profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    assert _counts() == (1, 12, 80, 1)
    assert set(Post.objects.values_list("id", flat=True)) == ids  # rows updated in place
    # A new scrape adds only a snapshot.
    profile_upsert_from_scrape(scraped=scraped, captured_at=T0 + timedelta(days=1))
    assert _counts() == (1, 12, 80, 2)


def test_upsert_updates_counts_but_never_ai_fields(scraped):
    profile = profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    Post.objects.update(
        ai_sentiment="positive",
        ai_sentiment_score=0.5,
        ai_content_category="Art",
        cdn_thumbnail_url="https://cdn.example/t.webp",
    )
    Profile.objects.filter(pk=profile.pk).update(
        ai_primary_content_type="Art", cdn_avatar_url="https://cdn.example/a.webp"
    )
    posts = [dataclasses.replace(p, likes_count=p.likes_count + 1, caption="edited") for p in scraped.posts]
    # Instagram re-signs CDN URLs at every scrape: the same image with a new query string.
    posts = [dataclasses.replace(p, display_url=p.display_url.split("?")[0] + "?oe=NEW") for p in posts]
    pic = scraped.profile_pic_url.split("?")[0] + "?oe=NEW"
    updated = dataclasses.replace(scraped, posts=posts, followers_count=1, profile_pic_url=pic)
    profile_upsert_from_scrape(scraped=updated, captured_at=T0 + timedelta(hours=1))
    profile.refresh_from_db()
    assert profile.followers_count == 1 and profile.ai_primary_content_type == "Art"
    assert profile.cdn_avatar_url == "https://cdn.example/a.webp"
    post = Post.objects.get(shortcode="Cxn7w_xOqZT")
    assert post.caption == "edited" and post.likes_count == 338085
    assert (post.ai_sentiment, post.ai_sentiment_score, post.ai_content_category) == ("positive", 0.5, "Art")
    assert post.cdn_thumbnail_url == "https://cdn.example/t.webp"
    assert post.display_url.endswith("?oe=NEW")


def test_changed_image_clears_the_cdn_url(scraped):
    profile = profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    Post.objects.update(cdn_thumbnail_url="https://cdn.example/t.webp")
    Profile.objects.filter(pk=profile.pk).update(cdn_avatar_url="https://cdn.example/a.webp")
    posts = [dataclasses.replace(scraped.posts[0], display_url="https://cdn.example/other.jpg"), *scraped.posts[1:]]
    changed = dataclasses.replace(scraped, posts=posts, profile_pic_url="https://cdn.example/new-avatar.jpg")
    profile_upsert_from_scrape(scraped=changed, captured_at=T0 + timedelta(hours=1))
    profile.refresh_from_db()
    assert profile.cdn_avatar_url == ""
    assert Post.objects.get(instagram_post_id=posts[0].instagram_post_id).cdn_thumbnail_url == ""
    assert Post.objects.exclude(cdn_thumbnail_url="").count() == 11


def test_related_keeps_the_latest_set(scraped):
    profile = profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    newcomer = ScrapedRelated(username="newcomer", full_name="New")
    later = dataclasses.replace(scraped, related=[newcomer, *scraped.related[:9]])
    profile_upsert_from_scrape(scraped=later, captured_at=T0 + timedelta(hours=1))
    assert list(profile.related_profiles.order_by("position").values_list("username", flat=True)) == [
        "newcomer",
        *[r.username for r in scraped.related[:9]],
    ]


def test_posts_no_longer_returned_are_kept(scraped):
    profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    profile_upsert_from_scrape(
        scraped=dataclasses.replace(scraped, posts=scraped.posts[:3]), captured_at=T0 + timedelta(hours=1)
    )
    assert Post.objects.count() == 12


def test_renamed_account_follows_its_instagram_id(scraped):
    profile = profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    renamed = dataclasses.replace(scraped, username="humansofnewyork")
    again = profile_upsert_from_scrape(scraped=renamed, captured_at=T0 + timedelta(hours=1))
    assert again.pk == profile.pk and again.username == "humansofnewyork"
    assert Profile.objects.count() == 1


def test_instagram_id_moves_to_the_current_username(scraped):
    old = ProfileFactory(username="old_name", instagram_id=scraped.instagram_id)
    existing = ProfileFactory(username="humansofny", instagram_id=None)
    profile = profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    assert profile.pk == existing.pk and profile.instagram_id == scraped.instagram_id
    old.refresh_from_db()
    assert old.instagram_id is None


def test_partial_profile_does_not_blank_known_fields(scraped, real_export):
    profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    posts = real_export[0]["latestPosts"]
    (partial,), _ = parse_export(posts)
    assert partial.partial
    profile_upsert_from_scrape(scraped=partial, captured_at=T0 + timedelta(hours=1))
    profile = Profile.objects.get()
    assert profile.followers_count == 12765763 and profile.biography
    assert _counts() == (1, 12, 80, 1)  # no zero-count snapshot, related untouched


def test_older_data_only_adds_what_is_missing(scraped):
    profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    extra = dataclasses.replace(scraped.posts[0], instagram_post_id="1", shortcode="OLD")
    old = dataclasses.replace(scraped, followers_count=5, posts=[extra, *scraped.posts], related=[])
    profile_upsert_from_scrape(scraped=old, captured_at=T0 - timedelta(days=30))
    profile = Profile.objects.get()
    assert profile.followers_count == 12765763 and profile.last_scraped_at == T0
    assert _counts() == (1, 13, 80, 2)
    assert list(profile.snapshots.values_list("followers_count", flat=True)) == [5, 12765763]


def test_post_moving_to_another_profile(scraped):
    post = PostFactory(instagram_post_id=scraped.posts[0].instagram_post_id)
    profile = profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    post.refresh_from_db()
    assert post.profile_id == profile.pk and Post.objects.count() == 12


def test_profiles_import_counts(real_export):
    profiles, _ = parse_export(real_export)
    first = profiles_import(scraped_profiles=profiles, captured_at=T0)
    assert (first.profiles_created, first.posts_created, first.related, first.snapshots) == (1, 12, 80, 1)
    second = profiles_import(scraped_profiles=profiles, captured_at=T0)
    assert (second.profiles_created, second.profiles_updated, second.posts_created, second.posts_updated) == (
        0,
        1,
        0,
        12,
    )
    assert second.snapshots == 0 and second.errors == []


def test_profile_scrape_uses_the_provider(settings, tmp_path):
    shutil.copy(SAMPLE_DIR / "humansofny-details.json", tmp_path / "hony.json")
    shutil.copytree(SAMPLE_DIR / "images", tmp_path / "images")
    settings.SCRAPER_PROVIDER = "dataset"
    settings.SCRAPER_DATASET_DIR = tmp_path
    profile = profile_scrape(username="@HumansOfNY")
    assert profile.username == "humansofny" and profile.last_scraped_at is not None
    assert profile.profile_pic_url == (tmp_path / "images" / "avatar-humansofny.jpg").as_uri()
    assert _counts() == (1, 12, 80, 1)
    with pytest.raises(ProfileNotFound):
        profile_scrape(username="not_in_dataset")
    assert ProviderCall.objects.count() == 2
    with pytest.raises(ValidationFailed):
        profile_scrape(username="bad name")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@HumansOfNY", "humansofny"),
        (" nasa ", "nasa"),
        ("https://www.instagram.com/Natgeo/?hl=en", "natgeo"),
        ("a.b_c", "a.b_c"),
    ],
)
def test_username_clean(raw, expected):
    assert username_clean(raw) == expected


@pytest.mark.parametrize("raw", ["", "@", "has space", "x" * 31, "emoji😀", None])
def test_username_clean_rejects(raw):
    with pytest.raises(ValidationFailed) as caught:
        username_clean(raw)
    assert caught.value.code == "invalid_username" and "username" in caught.value.details


def test_provider_call_record(settings):
    settings.SCRAPER_COST_CENTS = {"apify": 0.26}
    call = provider_call_record(
        provider="apify", username="a", call=CallInfo(attempts=2, http_status=200, results_returned=1), duration_ms=12
    )
    assert call.status == "ok" and float(call.cost_cents) == pytest.approx(0.26)
    # Refused before any HTTP call (circuit open): no cost.
    from profiles.providers.base import ProviderUnavailable

    refused = provider_call_record(
        provider="apify", username="a", call=CallInfo(), duration_ms=0, error=ProviderUnavailable("open")
    )
    assert refused.status == "unavailable" and refused.cost_cents == 0
    unknown = provider_call_record(provider="other", username="a", call=CallInfo(attempts=1), duration_ms=1)
    assert unknown.cost_cents == 0


def test_upsert_is_a_handful_of_queries(scraped, django_assert_max_num_queries):
    profile_upsert_from_scrape(scraped=scraped, captured_at=T0)
    # Bulk upserts: the query count does not grow with 12 posts and 80 related profiles.
    with django_assert_max_num_queries(14):
        profile_upsert_from_scrape(scraped=scraped, captured_at=T0 + timedelta(hours=1))
