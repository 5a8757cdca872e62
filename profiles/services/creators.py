"""Writes for creators: scrape and upsert profiles with their posts, related profiles and snapshots.

``profile_upsert_from_scrape`` is the one place a ``ScrapedProfile`` becomes rows. It is
idempotent (upserts by username / Instagram ids, a snapshot unique per capture time) and uses
bulk upserts (``INSERT ... ON CONFLICT DO UPDATE`` on PostgreSQL and SQLite) so that a creator
costs a handful of queries. It never touches the AI fields, and keeps CDN URLs while the source
image is the same one (Instagram re-signs its CDN URLs on every scrape, so "the same image"
means the same path, not the same query string).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import DatabaseError, transaction
from django.utils import timezone

from profiles.models import (
    Post,
    Profile,
    ProfileSnapshot,
    RelatedProfile,
)
from profiles.providers import get_provider
from profiles.providers.base import ScrapedProfile
from profiles.selectors.search_fields import contact_email_extract
from profiles.services.reports import report_invalidate
from profiles.services.search_fields import profile_search_fields_refresh
from profiles.usernames import username_clean

logger = logging.getLogger(__name__)

_POST_FIELDS = [
    "profile", "shortcode", "url", "type", "caption", "hashtags", "mentions", "likes_count",
    "comments_count", "video_view_count", "is_pinned", "is_sponsored", "posted_at", "display_url",
    "cdn_thumbnail_url", "updated_at",
]  # fmt: skip
_RELATED_FIELDS = [
    "instagram_id",
    "full_name",
    "is_verified",
    "is_private",
    "profile_pic_url",
    "position",
    "updated_at",
]
_PROFILE_FIELDS = [
    "full_name", "biography", "followers_count", "following_count", "posts_count", "is_verified",
    "is_business", "is_private", "category", "external_url", "external_urls", "profile_pic_url",
]  # fmt: skip


@dataclass
class UpsertResult:
    profile: Profile
    profile_created: bool = False
    posts_created: int = 0
    posts_updated: int = 0
    related: int = 0
    snapshot_created: bool = False


@dataclass
class ImportSummary:
    profiles_created: int = 0
    profiles_updated: int = 0
    posts_created: int = 0
    posts_updated: int = 0
    related: int = 0
    snapshots: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, result: UpsertResult) -> None:
        self.profiles_created += result.profile_created
        self.profiles_updated += not result.profile_created
        self.posts_created += result.posts_created
        self.posts_updated += result.posts_updated
        self.related += result.related
        self.snapshots += result.snapshot_created


def _image_identity(url: str) -> str:
    """What stays the same for one image across scrapes: the path, without the signed query."""
    parts = urlsplit(url or "")
    return parts.path if parts.scheme in ("http", "https") else (url or "")


def _lock_profile(scraped: ScrapedProfile) -> tuple[Profile, bool]:
    """The profile row for ``scraped``, locked, created if missing; (profile, created)."""
    by_name = Profile.objects.select_for_update().filter(username=scraped.username).first()
    if scraped.instagram_id:
        by_id = Profile.objects.select_for_update().filter(instagram_id=scraped.instagram_id).first()
        if by_id is not None and by_name is None:
            # The account was renamed: the row follows its Instagram id.
            by_id.username = scraped.username
            by_id.save(update_fields=["username", "updated_at"])
            return by_id, False
        if by_id is not None and by_name is not None and by_id.pk != by_name.pk:
            # Another row holds the id under its old name; the id moves to the current name.
            Profile.objects.filter(pk=by_id.pk).update(instagram_id=None)
    if by_name is not None:
        return by_name, False
    # ON CONFLICT DO NOTHING: a concurrent upsert may create the same row first.
    Profile.objects.bulk_create(
        [Profile(username=scraped.username, instagram_id=scraped.instagram_id or None)], ignore_conflicts=True
    )
    return Profile.objects.select_for_update().get(username=scraped.username), True


def _update_profile(profile: Profile, scraped: ScrapedProfile, captured_at: datetime) -> None:
    if scraped.partial:
        # A posts export knows the owner's id and name only.
        values = {"full_name": scraped.full_name or profile.full_name}
    else:
        values = {name: getattr(scraped, name) for name in _PROFILE_FIELDS}
        if _image_identity(values["profile_pic_url"]) != _image_identity(profile.profile_pic_url):
            values["cdn_avatar_url"] = ""
    if scraped.instagram_id and scraped.instagram_id != profile.instagram_id:
        # _lock_profile has freed the id if another row held it.
        values["instagram_id"] = scraped.instagram_id
    if not scraped.partial:
        values["contact_email"], values["contact_email_source"] = contact_email_extract(
            business_email=scraped.business_email, biography=scraped.biography
        )
    values["last_scraped_at"] = captured_at
    for name, value in values.items():
        setattr(profile, name, value)
    profile.save(update_fields=[*values, "updated_at"])


def _upsert_posts(profile: Profile, scraped: ScrapedProfile, only_new: bool) -> tuple[int, int]:
    if not scraped.posts:
        return 0, 0
    ids = [post.instagram_post_id for post in scraped.posts]
    stored = Post.objects.filter(instagram_post_id__in=ids).values_list(
        "instagram_post_id", "display_url", "cdn_thumbnail_url"
    )
    existing = {post_id: display_url for post_id, display_url, _ in stored}
    thumbnails = {post_id: thumbnail for post_id, _, thumbnail in stored}
    rows = []
    for post in scraped.posts:
        if only_new and post.instagram_post_id in existing:
            continue
        same_image = _image_identity(existing.get(post.instagram_post_id, "")) == _image_identity(post.display_url)
        rows.append(
            Post(
                profile=profile,
                instagram_post_id=post.instagram_post_id,
                shortcode=post.shortcode,
                url=post.url,
                type=post.type,
                caption=post.caption,
                hashtags=post.hashtags,
                mentions=post.mentions,
                likes_count=post.likes_count,
                comments_count=post.comments_count,
                video_view_count=post.video_view_count,
                is_pinned=post.is_pinned,
                is_sponsored=post.is_sponsored,
                posted_at=post.posted_at,
                display_url=post.display_url,
                cdn_thumbnail_url=thumbnails.get(post.instagram_post_id, "") if same_image else "",
            )
        )
    Post.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["instagram_post_id"], update_fields=_POST_FIELDS
    )
    created = sum(1 for row in rows if row.instagram_post_id not in existing)
    return created, len(rows) - created


def _replace_related(profile: Profile, scraped: ScrapedProfile) -> int:
    rows = [
        RelatedProfile(
            profile=profile,
            username=related.username,
            instagram_id=related.instagram_id,
            full_name=related.full_name,
            is_verified=related.is_verified,
            is_private=related.is_private,
            profile_pic_url=related.profile_pic_url,
            position=position,
        )
        for position, related in enumerate(scraped.related)
    ]
    # The latest scrape's set replaces the previous one.
    RelatedProfile.objects.filter(profile=profile).exclude(username__in=[row.username for row in rows]).delete()
    if rows:
        RelatedProfile.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["profile", "username"], update_fields=_RELATED_FIELDS
        )
    return len(rows)


def _profile_upsert(*, scraped: ScrapedProfile, captured_at: datetime | None = None) -> UpsertResult:
    captured_at = captured_at or timezone.now()
    with transaction.atomic():
        profile, created = _lock_profile(scraped)
        # Older data than what is stored (an old export imported after a fresh scrape) only
        # adds what is missing: its snapshot and posts not seen yet.
        stale = profile.last_scraped_at is not None and captured_at < profile.last_scraped_at
        if not stale:
            _update_profile(profile, scraped, captured_at)
        posts_created, posts_updated = _upsert_posts(profile, scraped, only_new=stale)
        related = 0
        if not stale and not scraped.partial:
            related = _replace_related(profile, scraped)
        snapshot_created = False
        if not scraped.partial:
            snapshot_created = not ProfileSnapshot.objects.filter(profile=profile, captured_at=captured_at).exists()
            if snapshot_created:
                ProfileSnapshot.objects.bulk_create(
                    [
                        ProfileSnapshot(
                            profile=profile,
                            followers_count=scraped.followers_count,
                            following_count=scraped.following_count,
                            posts_count=scraped.posts_count,
                            captured_at=captured_at,
                        )
                    ],
                    ignore_conflicts=True,
                )
    return UpsertResult(
        profile=profile,
        profile_created=created,
        posts_created=posts_created,
        posts_updated=posts_updated,
        related=related,
        snapshot_created=snapshot_created,
    )


def profile_upsert_from_scrape(*, scraped: ScrapedProfile, captured_at: datetime | None = None) -> Profile:
    """Store one scrape: profile, posts, related profiles (latest set) and a snapshot.

    ``captured_at`` (default: now) is the snapshot's time; the same scrape stored twice adds
    nothing. Returns the profile.
    """
    return _profile_upsert(scraped=scraped, captured_at=captured_at).profile


def profiles_import(
    *,
    scraped_profiles: Iterable[ScrapedProfile],
    captured_at: datetime,
    summary: ImportSummary | None = None,
    on_progress: Callable[[ScrapedProfile], None] | None = None,
) -> ImportSummary:
    """Upsert many profiles (an export), each in its own transaction, counting what changed.

    A profile that the database refuses is reported in ``summary.errors`` and the rest go on.
    """
    summary = summary if summary is not None else ImportSummary()
    for scraped in scraped_profiles:
        try:
            result = _profile_upsert(scraped=scraped, captured_at=captured_at)
            summary.add(result)
            # An import changes figures without a pipeline run, whose end would store them.
            profile_search_fields_refresh(profile=result.profile)
        except DatabaseError as exc:
            logger.warning("import of @%s failed: %s", scraped.username, exc)
            summary.errors.append(f"@{scraped.username}: {exc}")
        if on_progress is not None:
            on_progress(scraped)
    return summary


def profile_scrape(*, username: str) -> Profile:
    """Fetch ``username`` from the configured provider and store it. Provider errors propagate."""
    username = username_clean(username)
    scraped = get_provider().fetch(username)
    return profile_upsert_from_scrape(scraped=scraped)


# --- Pipeline writes: media URLs, AI results, aggregates ---------------------------------


def profile_get_or_create(*, username: str) -> Profile:
    """The profile row for ``username``; a bare row (not yet scraped) when it is new.

    An unlock of a creator we have never seen needs a row to attach the access to; the
    pipeline fills it. ``last_scraped_at`` stays empty until then, so it is not "known".
    """
    username = username_clean(username)
    profile, _ = Profile.objects.get_or_create(username=username)
    return profile


def profile_media_urls_save(*, profile: Profile, avatar_url: str | None, thumbnails: dict[Any, str]) -> None:
    """Store the CDN URLs of the avatar and of post thumbnails (post pk -> URL)."""
    with transaction.atomic():
        if avatar_url and profile.cdn_avatar_url != avatar_url:
            profile.cdn_avatar_url = avatar_url
            Profile.objects.filter(pk=profile.pk).update(cdn_avatar_url=avatar_url, updated_at=timezone.now())
        posts = list(Post.objects.filter(pk__in=list(thumbnails)).only("pk", "cdn_thumbnail_url"))
        changed = [post for post in posts if post.cdn_thumbnail_url != thumbnails[post.pk]]
        for post in changed:
            post.cdn_thumbnail_url = thumbnails[post.pk]
            post.updated_at = timezone.now()
        Post.objects.bulk_update(changed, ["cdn_thumbnail_url", "updated_at"])


def posts_ai_results_save(*, results: dict[str, dict[str, Any]]) -> int:
    """Store engine results on their posts (``result["key"]`` is the post pk as a string)."""
    now = timezone.now()
    posts = list(Post.objects.filter(pk__in=list(results)))
    for post in posts:
        result = results[str(post.pk)]
        post.ai_content_category = result["category"]
        post.ai_category_confidence = result["category_confidence"]
        post.ai_sentiment = result["sentiment"]
        post.ai_sentiment_score = max(-1.0, min(1.0, result["sentiment_score"]))
        post.ai_sentiment_confidence = result["sentiment_confidence"]
        post.ai_language_code = result["language"][:8]
        post.ai_language_confidence = result["language_confidence"]
        post.ai_analysis_raw = {
            "engine": result["engine"],
            "engine_version": result["engine_version"],
            **(result.get("raw") or {}),
        }
        post.ai_analyzed_at = now
        post.updated_at = now
    Post.objects.bulk_update(
        posts,
        [
            "ai_content_category", "ai_category_confidence", "ai_sentiment", "ai_sentiment_score",
            "ai_sentiment_confidence", "ai_language_code", "ai_language_confidence", "ai_analysis_raw",
            "ai_analyzed_at", "updated_at",
        ],
    )  # fmt: skip
    return len(posts)


def profile_ai_aggregate_save(*, profile: Profile, aggregate: Any, engine_version: str) -> None:
    """Store the profile-level AI aggregates (``aggregate.profile_fields()``)."""
    fields = {**aggregate.profile_fields(), "ai_engine": engine_version[:200]}
    fields["ai_profile_analyzed_at"] = timezone.now() if aggregate.posts_analysed else None
    for name, value in fields.items():
        setattr(profile, name, value)
    Profile.objects.filter(pk=profile.pk).update(**fields, updated_at=timezone.now())


def profile_pipeline_finished(*, profile: Profile) -> None:
    """After a pipeline run: store the search fields and drop the cached report."""
    profile_search_fields_refresh(profile=profile)
    report_invalidate(profile=profile)
