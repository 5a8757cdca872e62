"""Content helpers: top hashtags, top mentions and brand mentions, with counts.

Counts are numbers of POSTS using a tag (a tag repeated in one caption counts once), over
every post given (``limit=None`` by default; the builder decides the posts). Tags are
compared case-insensitively and without their "#"/"@". Ties: count descending, then name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from profiles.metrics.inputs import PostStats, latest_posts
from profiles.metrics.sponsorship import caption_hashtags, normalize_tag, post_sponsorship

TOP_N = 10
_CAPTION_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._]{1,30})")

# A handle "looks like a brand" when one of its "."/"_"-separated parts is one of these
# words, or when it starts or ends with one of BRAND_AFFIXES ("zaraofficial", "nikestore").
BRAND_TOKENS = frozenset({"official", "shop", "store", "brand", "inc", "co", "hq", "llc", "ltd", "boutique"})
BRAND_AFFIXES = ("official", "shop", "store", "brand")

REASON_SPONSORED = "mentioned_in_sponsored_post"
REASON_HANDLE = "brand_like_handle"


@dataclass(frozen=True)
class TagCount:
    tag: str
    count: int


@dataclass(frozen=True)
class BrandMention:
    username: str
    count: int  # posts mentioning it
    sponsored_posts: int  # of which disclose a sponsorship
    reasons: list[str] = field(default_factory=list)


def post_hashtags(post: PostStats) -> set[str]:
    """The post's hashtags: its ``hashtags`` field plus those written in the caption."""
    return {t for t in (normalize_tag(h) for h in [*post.hashtags, *caption_hashtags(post.caption)]) if t}


def post_mentions(post: PostStats) -> set[str]:
    """The post's mentions: its ``mentions`` field plus "@handle"s in the caption."""
    found = [*post.mentions, *_CAPTION_MENTION.findall(post.caption)]
    return {t for t in (normalize_tag(m).rstrip(".") for m in found) if t}


def _top(counter: Counter[str], n: int) -> list[TagCount]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [TagCount(tag=tag, count=count) for tag, count in ranked[: max(n, 0)]]


def _count(sets: Iterable[set[str]]) -> Counter[str]:
    counter: Counter[str] = Counter()
    for tags in sets:
        counter.update(tags)
    return counter


def top_hashtags(posts: Sequence[PostStats], *, n: int = TOP_N, limit: int | None = None) -> list[TagCount]:
    """The ``n`` hashtags used by the most posts."""
    return _top(_count(post_hashtags(p) for p in latest_posts(posts, limit)), n)


def top_mentions(posts: Sequence[PostStats], *, n: int = TOP_N, limit: int | None = None) -> list[TagCount]:
    """The ``n`` accounts mentioned by the most posts."""
    return _top(_count(post_mentions(p) for p in latest_posts(posts, limit)), n)


def looks_like_brand(username: str) -> bool:
    """The naming rule above; a heuristic (it can miss brands and flag e.g. "bishop")."""
    handle = normalize_tag(username)
    parts = [part for part in re.split(r"[._]+", handle) if part]
    if any(part in BRAND_TOKENS for part in parts):
        return True
    return any(handle != affix and (handle.startswith(affix) or handle.endswith(affix)) for affix in BRAND_AFFIXES)


def brand_mentions(posts: Sequence[PostStats], *, n: int = TOP_N, limit: int | None = None) -> list[BrandMention]:
    """Mentioned accounts that are probably brands, with how many posts mention them.

    A mention is a brand mention when it appears in at least one sponsored post
    (``post_sponsorship``) or its handle looks like a brand (``looks_like_brand``).
    Ranked by post count descending, then sponsored post count descending, then handle.
    """
    total: Counter[str] = Counter()
    sponsored: Counter[str] = Counter()
    for post in latest_posts(posts, limit):
        mentions = post_mentions(post)
        total.update(mentions)
        if post_sponsorship(post).is_sponsored:
            sponsored.update(mentions)
    found = []
    for handle, count in total.items():
        reasons = []
        if sponsored[handle]:
            reasons.append(REASON_SPONSORED)
        if looks_like_brand(handle):
            reasons.append(REASON_HANDLE)
        if reasons:
            found.append(BrandMention(username=handle, count=count, sponsored_posts=sponsored[handle], reasons=reasons))
    found.sort(key=lambda b: (-b.count, -b.sponsored_posts, b.username))
    return found[: max(n, 0)]
