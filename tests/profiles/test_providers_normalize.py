"""The normaliser against the real Apify export, trimmed exports and posts exports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiles.providers.base import ProfileNotFound, ProfilePrivate
from profiles.providers.normalize import (
    InvalidItem,
    hashtags,
    mentions,
    parse_export,
    post_from_item,
    profile_from_details,
    raise_for_error_item,
    relative_resolver,
    shortcode_to_id,
    timestamp,
)


def test_real_export_profile_fields(real_export):
    profile = profile_from_details(real_export[0])
    assert profile.username == "humansofny"
    assert profile.instagram_id == "242598499"
    assert profile.full_name == "Humans of New York"
    assert profile.biography.startswith("New York City, one story at a time.")
    assert (profile.followers_count, profile.following_count, profile.posts_count) == (12765763, 433, 5715)
    assert profile.is_verified is True
    assert profile.is_business is False
    assert profile.is_private is False
    assert profile.category == "Arts & Humanities Website"
    assert profile.external_url == "http://bit.ly/HONYPatreon"
    # The HD picture is preferred over the 150 px one.
    assert profile.profile_pic_url == real_export[0]["profilePicUrlHD"]
    assert profile.partial is False


def test_real_export_posts(real_export):
    profile = profile_from_details(real_export[0])
    assert len(profile.posts) == 12
    by_code = {post.shortcode: post for post in profile.posts}
    assert [p.type for p in profile.posts].count("video") == 2
    assert [p.type for p in profile.posts].count("carousel") == 5
    assert [p.type for p in profile.posts].count("image") == 5

    pinned = by_code["Cxn7w_xOqZT"]
    assert pinned.is_pinned is True
    assert pinned.instagram_post_id == "3199788912020727379"
    assert pinned.mentions == ["humansofamsterdam"]
    assert pinned.posted_at == datetime(2023, 9, 25, 17, 56, 24, tzinfo=UTC)
    assert pinned.likes_count == 338084 and pinned.comments_count == 2416
    assert pinned.video_view_count is None
    assert pinned.url == "https://www.instagram.com/p/Cxn7w_xOqZT/"

    reel = by_code["DBZKNRquEOJ"]
    assert reel.type == "video" and reel.video_view_count == 2387793

    carousel = by_code["C_LkoqlO6uE"]
    assert carousel.type == "carousel"
    # childPosts have null likes and timestamps: they only feed the child image URLs.
    assert len(carousel.child_display_urls) == 3
    assert carousel.child_display_urls[0] == carousel.display_url
    assert all(p.posted_at is not None and p.posted_at.tzinfo is not None for p in profile.posts)
    assert sum(1 for p in profile.posts if p.is_pinned) == 1


def test_real_export_related(real_export):
    profile = profile_from_details(real_export[0])
    assert len(profile.related) == 80
    first = profile.related[0]
    assert (first.username, first.instagram_id, first.full_name) == ("npr", "1258618", "NPR")
    assert first.is_verified is True and first.is_private is False
    assert first.profile_pic_url.startswith("https://")
    assert len({r.username for r in profile.related}) == 80


def test_hashtags_and_mentions_are_cleaned():
    assert hashtags(["#NYC!", "nyc", "#Love.", "#street_photo,", "", None, "#", "#café…"]) == [
        "nyc",
        "love",
        "street_photo",
        "café",
    ]
    assert mentions(["@HumansOfNY,", "humansofny", "@nasa.", "@a.b_c!", "@", "@bad name", None]) == [
        "humansofny",
        "nasa",
        "a.b_c",
        "bad",
    ]
    assert hashtags("not a list") == [] and mentions(None) == []


def test_caption_hashtags_from_item_are_normalised(real_export):
    item = real_export[0]["latestPosts"][0]
    item["hashtags"] = ["#HONY!", "#hony", "NewYork."]
    item["mentions"] = ["@HumansOfAmsterdam,", "humansofamsterdam"]
    post = post_from_item(item)
    assert post.hashtags == ["hony", "newyork"]
    assert post.mentions == ["humansofamsterdam"]


def test_negative_null_and_malformed_counts_are_unknown(real_export):
    item = real_export[0]["latestPosts"][1]
    item.update(likesCount=-1, commentsCount=None, videoViewCount="n/a")
    post = post_from_item(item)
    # unknown, not 0: a zero would drag the creator's averages down
    assert (post.likes_count, post.comments_count, post.video_view_count) == (None, None, None)
    item.update(likesCount="12", commentsCount=0, videoViewCount=7.0)
    post = post_from_item(item)
    assert (post.likes_count, post.comments_count, post.video_view_count) == (12, 0, 7)


def test_posts_without_ids_take_them_from_their_image():
    cache_key = "MzQ1MzM3NTMwNDIyMDkxMTUwMA%3D%3D.3-ccb7-5"
    with_key = f"https://scontent.cdninstagram.com/v/t39/459_n.jpg?stp=dst&ig_cache_key={cache_key}&oh=1"
    post = post_from_item({"displayUrl": with_key, "caption": "Basta poco"})
    assert post.instagram_post_id == "3453375304220911500"  # the media id Instagram encodes in the URL
    plain = "https://instagram.fosu2-2.fna.fbcdn.net/v/t51.29350-15/269981684_1359_n.jpg?stp=a&oh=1"
    resigned = plain.replace("oh=1", "oh=2")
    derived = post_from_item({"displayUrl": plain}).instagram_post_id
    assert derived.startswith("img-") and derived == post_from_item({"displayUrl": resigned}).instagram_post_id
    assert (post.likes_count, post.comments_count, post.posted_at) == (None, None, None)


def test_trimmed_export_never_crashes():
    profile = profile_from_details(
        {
            "username": "@Some.Creator ",
            "latestPosts": [
                {"shortCode": "C_LkoqlO6uE"},  # no id: derived from the shortcode
                {"id": "1", "type": "Sidecar", "childPosts": None, "images": None, "timestamp": "garbage"},
                {"caption": "no id, no shortcode: skipped"},
                "not an object",
            ],
            "relatedProfiles": [{"username": "ok_one"}, {"username": "bad name!"}, {}, None],
            "followersCount": None,
            "externalUrl": "javascript:alert(1)",
        }
    )
    assert profile.username == "some.creator"
    assert (profile.full_name, profile.biography, profile.followers_count) == ("", "", 0)
    assert profile.external_url == "" and profile.external_urls == []
    assert [p.instagram_post_id for p in profile.posts] == ["3444007464230169476", "1"]
    assert profile.posts[0].url == "https://www.instagram.com/p/C_LkoqlO6uE/"
    assert profile.posts[1].type == "carousel" and profile.posts[1].posted_at is None
    assert [r.username for r in profile.related] == ["ok_one"]


def test_invalid_usernames_are_rejected():
    for bad in [{}, {"username": ""}, {"username": "x" * 31}, {"username": "not valid"}, "string"]:
        with pytest.raises(InvalidItem):
            profile_from_details(bad)


def test_shortcode_decodes_to_media_id(real_export):
    for post in real_export[0]["latestPosts"]:
        assert shortcode_to_id(post["shortCode"]) == post["id"]
    assert shortcode_to_id("bad!") == ""


def test_timestamps():
    assert timestamp("2024-08-27T16:55:04.000Z") == datetime(2024, 8, 27, 16, 55, 4, tzinfo=UTC)
    assert timestamp("2024-08-27T18:55:04+02:00") == datetime(2024, 8, 27, 16, 55, 4, tzinfo=UTC)
    assert timestamp(1724777704) == datetime(2024, 8, 27, 16, 55, 4, tzinfo=UTC)
    assert timestamp("2024-08-27T16:55:04").tzinfo == UTC
    assert timestamp(None) is None and timestamp("soon") is None and timestamp(True) is None


def test_external_urls_objects_and_strings():
    profile = profile_from_details(
        {"username": "a", "externalUrls": [{"url": "https://a.example", "title": "A"}, "https://b.example", {"x": 1}]}
    )
    assert profile.external_urls == ["https://a.example", "https://b.example"]


def test_posts_export_is_grouped_and_merged(real_export):
    posts = real_export[0]["latestPosts"]
    for post in posts:
        post["ownerFullName"] = "Humans of New York"
    other = dict(posts[0], id="42", shortCode="", ownerUsername="Someone_Else", ownerId="7")
    profiles, problems = parse_export([*posts, other])
    assert problems == []
    by_name = {p.username: p for p in profiles}
    hony = by_name["humansofny"]
    assert hony.partial is True
    assert (hony.instagram_id, hony.full_name, len(hony.posts)) == ("242598499", "Humans of New York", 12)
    assert (hony.followers_count, hony.biography, hony.related) == (0, "", [])
    assert [p.instagram_post_id for p in by_name["someone_else"].posts] == ["42"]

    # A details item and a posts export of the same creator: one full profile with every post.
    details = real_export[0]
    details["latestPosts"] = details["latestPosts"][:3]
    merged, _ = parse_export([details, *posts])
    assert len(merged) == 1
    assert merged[0].partial is False and merged[0].followers_count == 12765763
    assert len(merged[0].posts) == 12


def test_error_items():
    with pytest.raises(ProfileNotFound):
        raise_for_error_item({"error": "not_found", "errorDescription": "Page Not Found"}, "x")
    with pytest.raises(ProfileNotFound):
        raise_for_error_item({"error": "Page Not Found"}, "x")
    with pytest.raises(ProfilePrivate):
        raise_for_error_item({"error": "no_items", "errorDescription": "Profile is private"}, "x")
    raise_for_error_item({"username": "fine"}, "fine")
    profiles, problems = parse_export([{"error": "not_found", "url": "https://www.instagram.com/gone/"}])
    assert profiles == [] and len(problems) == 1


def test_relative_image_paths_resolve_to_file_uris(tmp_path, real_export):
    resolve = relative_resolver(tmp_path)
    assert resolve("images/a.jpg") == (tmp_path / "images" / "a.jpg").resolve().as_uri()
    assert resolve("https://cdn.example/a.jpg") == "https://cdn.example/a.jpg"
    assert resolve("") == "" and resolve(None) == ""
    item = real_export[0]
    item["profilePicUrlHD"] = "images/avatar.jpg"
    assert profile_from_details(item, resolve).profile_pic_url.startswith("file://")
    # Without a resolver for files beside an export, relative paths are dropped (the
    # smaller picture, still a URL, is used instead).
    assert profile_from_details(item).profile_pic_url == item["profilePicUrl"]
    item["profilePicUrl"] = "images/avatar-small.jpg"
    assert profile_from_details(item).profile_pic_url == ""


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    ["username", "id", "fullName", "followersCount", "latestPosts", "relatedProfiles", "externalUrls", "verified"]
)
_post_keys = st.sampled_from(
    ["id", "shortCode", "type", "hashtags", "mentions", "likesCount", "timestamp", "childPosts"]
)


@given(
    item=st.dictionaries(_keys, _json, max_size=8),
    posts=st.lists(st.dictionaries(_post_keys, _json, max_size=8), max_size=3),
)
@settings(max_examples=150, deadline=None)
def test_arbitrary_items_never_crash(item, posts):
    item = {**item, "username": "someone", "latestPosts": posts}
    profile = profile_from_details(item)
    assert profile.username == "someone"
    assert all(count is None or count >= 0 for p in profile.posts for count in (p.likes_count, p.comments_count))
    assert all(p.posted_at is None or p.posted_at.tzinfo is not None for p in profile.posts)
