"""Turn Apify Instagram-scraper JSON into ``ScrapedProfile`` / ``ScrapedPost`` / ``ScrapedRelated``.

One normaliser for every provider and both export shapes:

* details export: a list of profiles, each with ``latestPosts`` and ``relatedProfiles``
  (the related ones in snake_case: ``full_name``, ``is_verified``, ``profile_pic_url``);
* posts export: a list of posts, each naming its owner (``ownerUsername``, ``ownerFullName``,
  ``ownerId``); they are grouped into ``partial`` profiles.

Exports with fields trimmed away are accepted: a missing or null field becomes the empty value
of its type. Counts that describe the audience's response and the account's size (likes,
comments, views, ``postsCount``) are *unknown* (None) when missing, null or negative (Apify
reports ``-1`` for hidden likes), never 0: a zero would drag averages and filters down.
Followers and following stay 0 when missing. A post without ``id`` or ``shortCode`` (exports
trimmed to captions and images) takes its id from its image (``post_id_from_image``). Only an
item without a usable username (or a post without any id) is rejected, with ``InvalidItem``.
Image references go through ``resolve_url`` so that exports with images beside them
(relative paths) resolve to ``file://`` URIs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from profiles.models import USERNAME_RE, normalize_username
from profiles.providers.base import (
    ProfileNotFound,
    ProfilePrivate,
    ProviderError,
    ScrapedPost,
    ScrapedProfile,
    ScrapedRelated,
)

# Model column sizes (profiles.models): longer values are cut instead of failing the insert.
_MAX = {"name": 255, "category": 255, "external_url": 1000, "image": 2000, "post_url": 500, "shortcode": 40}
_TYPES = {
    "image": "image",
    "graphimage": "image",
    "video": "video",
    "graphvideo": "video",
    "clips": "video",
    "reel": "video",
    "sidecar": "carousel",
    "graphsidecar": "carousel",
    "carousel": "carousel",
}
_USERNAME = re.compile(USERNAME_RE)
_HASHTAG_BODY = re.compile(r"^\w+")
_MENTION_BODY = re.compile(r"^[A-Za-z0-9._]+")
_SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

UrlResolver = Callable[[Any], str]


class InvalidItem(ValueError):
    """An export item that cannot be normalised (no valid username, a post with no id)."""


# --- scalars ----------------------------------------------------------------------------


def text(value: Any, limit: int | None = None) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    result = str(value).strip()
    return result[:limit] if limit else result


def count(value: Any) -> int:
    """A non-negative integer; missing, null, malformed and negative (hidden) counts are 0."""
    if isinstance(value, bool):
        return 0
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return 0
    return max(number, 0)


def optional_count(value: Any) -> int | None:
    """A non-negative integer, or None (unknown) when missing, null, malformed or negative."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number >= 0 else None


def flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def timestamp(value: Any) -> datetime | None:
    """ISO 8601 (``2024-08-27T16:55:04.000Z``) or epoch seconds, as an aware UTC datetime."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            parsed = datetime.fromtimestamp(value, tz=UTC)
        else:
            raw = str(value).strip()
            if raw.isdigit():
                parsed = datetime.fromtimestamp(int(raw), tz=UTC)
            else:
                parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def valid_username(value: Any) -> str:
    """The normalised username, or "" when it breaks Instagram's rules."""
    username = normalize_username(text(value))
    return username if _USERNAME.match(username) else ""


def keep_url(value: Any) -> str:
    """The default resolver: absolute http(s)/file URLs only (relative paths mean nothing here)."""
    url = text(value)
    return url[: _MAX["image"]] if urlsplit(url).scheme in ("http", "https", "file") else ""


def relative_resolver(base_dir: Path) -> UrlResolver:
    """Resolve image references relative to an export file's directory into ``file://`` URIs."""
    base = Path(base_dir).resolve()

    def resolve(value: Any) -> str:
        url = text(value)
        if not url:
            return ""
        if urlsplit(url).scheme in ("http", "https", "file"):
            return url[: _MAX["image"]]
        if len(url) > 1 and url[1] == ":":  # a Windows drive letter is not a URL scheme
            return ""
        return (base / url).resolve().as_uri()[: _MAX["image"]]

    return resolve


# --- lists ------------------------------------------------------------------------------


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def hashtags(values: Any) -> list[str]:
    """``["#NYC!", "nyc", "#Love."]`` -> ``["nyc", "love"]``: no '#', no trailing punctuation."""
    if not isinstance(values, list):
        return []
    cleaned = []
    for value in values:
        match = _HASHTAG_BODY.match(text(value).lstrip("#").strip())
        if match:
            cleaned.append(match.group(0).lower())
    return _unique(cleaned)


def mentions(values: Any) -> list[str]:
    """``["@Humansofny,", "nasa."]`` -> ``["humansofny", "nasa"]`` (valid usernames only)."""
    if not isinstance(values, list):
        return []
    cleaned = []
    for value in values:
        match = _MENTION_BODY.match(text(value).lstrip("@").strip())
        # A username never ends with '.', so a trailing period is the sentence's.
        cleaned.append(valid_username(match.group(0).rstrip(".")) if match else "")
    return _unique(cleaned)


def external_urls(item: dict[str, Any]) -> list[str]:
    """Apify gives ``externalUrls`` as strings or as ``{"url": ..., "title": ...}`` objects."""
    raw = item.get("externalUrls")
    urls = []
    for entry in raw if isinstance(raw, list) else []:
        url = text(entry.get("url") if isinstance(entry, dict) else entry, _MAX["external_url"])
        if urlsplit(url).scheme in ("http", "https"):
            urls.append(url)
    return _unique(urls)


def post_id_from_image(url: Any) -> str:
    """A post id for an item that has neither ``id`` nor ``shortCode``, from its image URL.

    Instagram's image URLs carry the media id base64-encoded in ``ig_cache_key``
    (``MzQ1MzM3NTMwNDIyMDkxMTUwMA==.3-ccb7-5`` -> ``3453375304220911500``): that is the real id.
    Without it, ``img-`` and a hash of the image's path (stable across re-signed URLs) stand in.
    """
    raw = text(url)
    if not raw:
        return ""
    parts = urlsplit(raw)
    key = dict(parse_qsl(parts.query)).get("ig_cache_key", "")
    if key:
        encoded = key.split(".", 1)[0]
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        if decoded.isdigit():
            return decoded[:40]
    identity = parts.path if parts.scheme in ("http", "https") else raw
    return "img-" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def shortcode_to_id(shortcode: str) -> str:
    """Instagram's media id is the shortcode read as a base-64 number (first 11 characters)."""
    number = 0
    for char in shortcode[:11]:
        index = _SHORTCODE_ALPHABET.find(char)
        if index < 0:
            return ""
        number = number * 64 + index
    return str(number) if number else ""


# --- items ------------------------------------------------------------------------------


def post_from_item(item: dict[str, Any], resolve: UrlResolver = keep_url) -> ScrapedPost:
    shortcode = text(item.get("shortCode") or item.get("shortcode"), _MAX["shortcode"])
    post_id = text(item.get("id")) or shortcode_to_id(shortcode) or post_id_from_image(item.get("displayUrl"))
    if not post_id:
        raise InvalidItem("A post without an id or shortCode cannot be stored.")
    kind = text(item.get("productType")).lower()
    post_type = _TYPES.get(kind) if kind == "clips" else None
    post_type = post_type or _TYPES.get(text(item.get("type")).lower(), "image")
    children = item.get("childPosts") if isinstance(item.get("childPosts"), list) else []
    child_urls = [resolve(child.get("displayUrl")) for child in children if isinstance(child, dict)]
    if not child_urls and post_type == "carousel" and isinstance(item.get("images"), list):
        child_urls = [resolve(url) for url in item["images"]]
    url = text(item.get("url"), _MAX["post_url"])
    if not url and shortcode:
        url = f"https://www.instagram.com/p/{shortcode}/"
    views = item.get("videoViewCount")
    if views is None:
        views = item.get("videoPlayCount")
    return ScrapedPost(
        instagram_post_id=post_id,
        shortcode=shortcode,
        url=url,
        type=post_type,
        caption=text(item.get("caption")),
        hashtags=hashtags(item.get("hashtags")),
        mentions=mentions(item.get("mentions")),
        likes_count=optional_count(item.get("likesCount")),
        comments_count=optional_count(item.get("commentsCount")),
        video_view_count=optional_count(views) if post_type == "video" else None,
        is_pinned=flag(item.get("isPinned")),
        is_sponsored=flag(item.get("isSponsored")),
        posted_at=timestamp(item.get("timestamp")),
        display_url=resolve(item.get("displayUrl")),
        child_display_urls=_unique(child_urls),
        alt=text(item.get("alt")),
    )


def related_from_items(items: Any, owner: str, resolve: UrlResolver = keep_url) -> list[ScrapedRelated]:
    related: dict[str, ScrapedRelated] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        username = valid_username(item.get("username"))
        if not username or username == owner or username in related:
            continue
        related[username] = ScrapedRelated(
            username=username,
            instagram_id=text(item.get("id"), 40),
            full_name=text(item.get("full_name", item.get("fullName")), _MAX["name"]),
            is_verified=flag(item.get("is_verified", item.get("verified"))),
            is_private=flag(item.get("is_private", item.get("private"))),
            profile_pic_url=resolve(item.get("profile_pic_url", item.get("profilePicUrl"))),
        )
    return list(related.values())


def _posts(items: Any, resolve: UrlResolver) -> list[ScrapedPost]:
    posts: dict[str, ScrapedPost] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            post = post_from_item(item, resolve)
        except InvalidItem:
            continue
        posts.setdefault(post.instagram_post_id, post)
    return list(posts.values())


def raise_for_error_item(item: dict[str, Any], username: str = "") -> None:
    """Apify reports failures as items: ``{"error": "not_found", "errorDescription": ...}``."""
    error = text(item.get("error")).lower()
    description = text(item.get("errorDescription") or item.get("error"))
    if not error:
        return
    if "private" in error or "private" in description.lower():
        raise ProfilePrivate(f"@{username} is private: {description}", username=username)
    if "not_found" in error or "not found" in description.lower() or "does not exist" in description.lower():
        raise ProfileNotFound(f"@{username} was not found: {description}", username=username)
    raise ProviderError(f"The provider reported an error for @{username}: {description}", username=username)


# Where exports put the public contact email of a business / creator account.
_EMAIL_KEYS = ("businessEmail", "publicEmail", "business_email", "public_email", "email")


def _business_email(item: dict[str, Any]) -> str:
    for key in _EMAIL_KEYS:
        value = text(item.get(key), 254)
        if value:
            return value
    return ""


def profile_from_details(item: dict[str, Any], resolve: UrlResolver = keep_url) -> ScrapedProfile:
    """One details-export item (a profile with ``latestPosts`` and ``relatedProfiles``)."""
    if not isinstance(item, dict):
        raise InvalidItem("An export item must be an object.")
    username = valid_username(item.get("username"))
    if not username:
        raise InvalidItem(f"Invalid or missing username: {text(item.get('username'))[:60]!r}")
    external_url = text(item.get("externalUrl"), _MAX["external_url"])
    if urlsplit(external_url).scheme not in ("http", "https"):
        external_url = ""
    return ScrapedProfile(
        username=username,
        instagram_id=text(item.get("id"), 40),
        full_name=text(item.get("fullName"), _MAX["name"]),
        biography=text(item.get("biography")),
        followers_count=count(item.get("followersCount")),
        following_count=count(item.get("followsCount")),
        posts_count=optional_count(item.get("postsCount")),
        is_verified=flag(item.get("verified")),
        is_business=flag(item.get("isBusinessAccount")),
        is_private=flag(item.get("private")),
        category=text(item.get("businessCategoryName"), _MAX["category"]),
        external_url=external_url,
        external_urls=external_urls(item),
        profile_pic_url=resolve(item.get("profilePicUrlHD")) or resolve(item.get("profilePicUrl")),
        business_email=_business_email(item),
        posts=_posts(item.get("latestPosts"), resolve),
        related=related_from_items(item.get("relatedProfiles"), username, resolve),
    )


def profiles_from_posts(items: Iterable[dict[str, Any]], resolve: UrlResolver = keep_url) -> list[ScrapedProfile]:
    """Group posts-export items by owner into partial profiles (order of first appearance)."""
    owners: dict[str, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        username = valid_username(item.get("ownerUsername"))
        if not username:
            continue
        owner = owners.setdefault(username, {"id": "", "full_name": "", "posts": []})
        owner["id"] = owner["id"] or text(item.get("ownerId"), 40)
        owner["full_name"] = owner["full_name"] or text(item.get("ownerFullName"), _MAX["name"])
        owner["posts"].append(item)
    return [
        ScrapedProfile(
            username=username,
            instagram_id=owner["id"],
            full_name=owner["full_name"],
            posts=_posts(owner["posts"], resolve),
            partial=True,
        )
        for username, owner in owners.items()
    ]


def is_post_item(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and "ownerUsername" in item
        and "latestPosts" not in item
        and ("shortCode" in item or "type" in item or "id" in item)
    )


def merge(base: ScrapedProfile, extra: ScrapedProfile) -> ScrapedProfile:
    """Add ``extra``'s posts (a posts export) to ``base``, keeping ``base``'s fields when set."""
    from dataclasses import replace

    posts = {post.instagram_post_id: post for post in base.posts}
    for post in extra.posts:
        posts.setdefault(post.instagram_post_id, post)
    ordered = sorted(posts.values(), key=lambda p: p.posted_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return replace(
        base,
        instagram_id=base.instagram_id or extra.instagram_id,
        full_name=base.full_name or extra.full_name,
        posts=ordered,
        partial=base.partial and extra.partial,
    )


def parse_export(data: Any, resolve: UrlResolver = keep_url) -> tuple[list[ScrapedProfile], list[str]]:
    """Any export (details or posts shape, or a mix) -> (profiles, problems with skipped items).

    Error items (``{"error": ...}``) are reported as problems, not profiles.
    """
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return [], ["The export is not a JSON list of items."]
    profiles: dict[str, ScrapedProfile] = {}
    problems: list[str] = []
    post_items = []
    for index, item in enumerate(data):
        if is_post_item(item):
            post_items.append(item)
            continue
        try:
            if isinstance(item, dict):
                raise_for_error_item(item, text(item.get("username")))
            profile = profile_from_details(item, resolve)
        except (InvalidItem, ProviderError) as exc:
            problems.append(f"item {index}: {exc}")
            continue
        profiles[profile.username] = (
            merge(profiles[profile.username], profile) if profile.username in profiles else profile
        )
    for partial in profiles_from_posts(post_items, resolve):
        existing = profiles.get(partial.username)
        profiles[partial.username] = merge(existing, partial) if existing else partial
    return list(profiles.values()), problems
