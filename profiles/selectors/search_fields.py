"""The stored search fields of a creator: what discovery filters and sorts on, as columns.

Computed here (``search_fields_compute``, no writes); stored by
``profiles.services.search_fields.profile_search_fields_refresh``.

Discovery searches a million creators, so nothing it filters or sorts on may be computed per
request from posts or snapshots. ``profile_search_fields_refresh`` computes them once per
scrape or pipeline run from the same metric functions the report uses (``profiles.metrics``)
and stores them on the profile; ``None`` means unknown (no dated posts, no engagement data,
no 30-day-old snapshot) and an unknown value never satisfies a filter.

- ``discoverable``: the creator is scraped, public and AI-analysed (the "analysed creators"
  browse shows);
- ``contact_email``: the provider's business email when the export has one, else the first
  address matching a strict pattern in the biography; lower-cased (``contact_email_extract``);
- ``search_vector`` (PostgreSQL): biography, name, category and captions under the text
  search configuration of the creator's top language plus ``simple`` (so that unstemmed
  words and names match too), GIN-indexed.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from django.utils import timezone

from profiles import metrics
from profiles.metrics.sponsorship import post_sponsorship
from profiles.models import Post, Profile
from profiles.selectors.posts import post_stats, profile_stats, snapshot_points

SEARCH_HASHTAGS = 30  # the most used hashtags of the latest posts kept for the hashtag filter

# ISO 639-1 code -> PostgreSQL text search configuration (those shipped since PostgreSQL 13).
TS_CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "ga": "irish", "hu": "hungarian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}  # fmt: skip
DEFAULT_TS_CONFIG = "english"

# Strict: a local part of the usual characters, a dotted domain and an alphabetic TLD, not
# glued to other word characters (so "@handle" mentions and URLs with "@" do not match).
_EMAIL_RE = re.compile(
    r"(?<![\w.+-])([a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9])?@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![\w@-])",
    re.IGNORECASE,
)


def ts_config(language: str) -> str:
    """The text search configuration of an ISO 639-1 code (``english`` when unknown)."""
    return TS_CONFIGS.get((language or "").lower()[:2], DEFAULT_TS_CONFIG)


def contact_email_extract(*, business_email: str = "", biography: str = "") -> tuple[str, str]:
    """``(email, source)``: the provider's business email, else the biography's first address.

    Normalised (trimmed, lower-cased); ``("", "")`` when there is none. A business email that
    does not pass the strict pattern is ignored rather than stored.
    """
    for source, text in (("business", business_email or ""), ("biography", biography or "")):
        match = _EMAIL_RE.search(text.strip())
        if match and (source == "biography" or match.group(1) == text.strip()):
            email = match.group(1).lower().rstrip(".")
            if ".." not in email:
                return email, source
    return "", ""


def email_masked(email: str) -> str | None:
    """``j***@gmail.com``: the first character of the local part, then the domain."""
    if not email or "@" not in email:
        return None
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def _top_language(distribution: dict[str, Any]) -> str:
    known = {code: share for code, share in (distribution or {}).items() if code and code not in ("unknown", "other")}
    if not known:
        return ""
    return max(sorted(known), key=lambda code: float(known[code] or 0))[:8]


def _has_engagement_data(stats: list[metrics.PostStats]) -> bool:
    # An export without likes, comments or views (a bare profile export) stores zeros; a
    # window where every post has none at all is "unknown", not an engagement of zero.
    return any(s.likes or s.comments or s.views for s in stats)


def search_fields_compute(*, profile: Profile, posts: list[Post], snapshots: list[Any]) -> dict[str, Any]:
    """The stored search fields of ``profile`` from its latest posts and snapshots (no writes)."""
    stats = metrics.latest_posts([post_stats(post) for post in posts])
    followers = profile.followers_count
    known = bool(stats) and _has_engagement_data(stats)
    summary = metrics.engagement_stats(stats, followers) if known else None
    views = [s.views for s in stats if s.is_video and s.views]
    dated = [s.posted_at for s in stats if s.posted_at is not None]
    points = snapshot_points(snapshots)
    growth = metrics.growth_over(points, days=30, now=timezone.now()) if points else None
    quality = None
    if known:
        quality = metrics.audience_quality_estimate(
            profile_stats(profile),
            stats,
        ).score
    tags = Counter(tag.lower() for post in posts for tag in (post.hashtags or []) if isinstance(tag, str))
    return {
        "discoverable": bool(
            profile.last_scraped_at and not profile.is_private and profile.ai_profile_analyzed_at is not None
        ),
        "engagement_rate": summary.engagement_rate if summary else None,
        "avg_likes": summary.mean_likes if summary else None,
        "avg_views": round(sum(views) / len(views), 2) if known and views else None,
        "avg_engagement": summary.mean_engagement if summary else None,
        "posts_per_week": metrics.posting_frequency(stats),
        "last_post_at": max(dated) if dated else None,
        "audience_quality_score": float(quality) if quality is not None else None,
        "sponsored_share": (
            round(sum(1 for s in stats if post_sponsorship(s).is_sponsored) / len(stats), 4) if stats else None
        ),
        "growth_30d": growth.followers_change_percent if growth else None,
        "top_language": _top_language(profile.ai_language_distribution),
        "search_hashtags": [tag for tag, _ in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))][:SEARCH_HASHTAGS],
    }
