"""Profile aggregation: from a creator's analysed posts to the profile's AI fields.

Pure functions over ``PostAnalysis`` values (built from an engine's ``PostResult`` or from
a stored post's ``ai_*`` fields); no database access, so the pipeline, the repair command
and the tests all share one definition.

- **Primary category**: the most frequent post category; ties go to the category with the
  larger summed category confidence, then to the alphabetically first.
- **Category distribution**: each category's share of the analysed posts, rounded to 4
  places, largest first (ties alphabetical); the rounding residue goes to the largest share
  so that the shares sum to exactly 1.
- **Mean sentiment**: the mean of the posts' sentiment scores (-1..1), rounded to 4 places.
- **Language distribution**: like the category distribution, over language codes.
- **Content quality score** (0..1): a weighted mean of five components, each 0..1:

  ============================  ======  =================================================
  component                     weight  per post (the component is the mean over posts)
  ============================  ======  =================================================
  caption substance             0.25    min(1, words / 20); words exclude hashtags,
                                        mentions and URLs (20 words say something)
  hashtag hygiene               0.15    1 for 1-10 hashtags; 0.7 for none (less
                                        discoverable); above 10, 1 - (n - 10) / 20, down
                                        to 0 at Instagram's cap of 30
  tone                          0.20    0.8 + 0.2 x score when score >= 0 (neutral 0.8,
                                        most positive 1); 0.8 x (1 + score) below 0
                                        (most negative 0)
  category focus                0.25    profile-level: 1 - H / log(min(posts, categories))
                                        where H is the entropy of the category
                                        distribution; 1 for a single post or category
  language consistency          0.15    profile-level: the largest language share
  ============================  ======  =================================================

  The sum is clamped to 0..1 and rounded to 4 places. Engagement (likes, comments) is
  deliberately left out: it measures the audience's size as much as the content.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.engines.base import PostResult

QUALITY_WEIGHTS: dict[str, float] = {
    "caption_substance": 0.25,
    "hashtag_hygiene": 0.15,
    "tone": 0.20,
    "category_focus": 0.25,
    "language_consistency": 0.15,
}
SUBSTANTIVE_CAPTION_WORDS = 20
MAX_CLEAN_HASHTAGS = 10
INSTAGRAM_HASHTAG_CAP = 30
NO_HASHTAG_SCORE = 0.7
NEUTRAL_TONE = 0.8
DEFAULT_CATEGORY_COUNT = 20

_NOISE_RE = re.compile(r"(?:https?://|www\.)\S+|(?<!\w)[@#][\w.]+", re.IGNORECASE)
_WORD_RE = re.compile(r"\w+")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")


@dataclass(frozen=True, slots=True)
class PostAnalysis:
    """The AI fields of one analysed post, plus what the quality score reads."""

    category: str
    category_confidence: float
    sentiment_score: float
    language: str
    caption: str = ""
    hashtags: tuple[str, ...] = ()

    @classmethod
    def from_result(cls, result: PostResult, *, caption: str = "", hashtags: Iterable[str] = ()) -> PostAnalysis:
        return cls(
            category=result.category,
            category_confidence=result.category_confidence,
            sentiment_score=result.sentiment_score,
            language=result.language,
            caption=caption,
            hashtags=tuple(hashtags),
        )

    @classmethod
    def from_post(cls, post: Any) -> PostAnalysis:
        """From any object with a stored post's fields (``ai_content_category``...)."""
        return cls(
            category=post.ai_content_category,
            category_confidence=post.ai_category_confidence or 0.0,
            sentiment_score=post.ai_sentiment_score or 0.0,
            language=post.ai_language_code,
            caption=post.caption or "",
            hashtags=tuple(post.hashtags or ()),
        )


@dataclass(frozen=True, slots=True)
class ProfileAggregate:
    posts_analysed: int
    primary_category: str
    category_distribution: dict[str, float]
    avg_sentiment_score: float | None
    language_distribution: dict[str, float]
    content_quality_score: float | None
    quality_components: dict[str, float] = field(default_factory=dict)

    def profile_fields(self) -> dict[str, Any]:
        """The values of the ``Profile.ai_*`` fields this aggregate fills."""
        return {
            "ai_primary_content_type": self.primary_category,
            "ai_content_distribution": self.category_distribution,
            "ai_avg_sentiment_score": self.avg_sentiment_score,
            "ai_language_distribution": self.language_distribution,
            "ai_content_quality_score": self.content_quality_score,
        }


def distribution(values: Sequence[str]) -> dict[str, float]:
    """Share of each value, rounded to 4 places, largest first, summing to exactly 1."""
    if not values:
        return {}
    counts = Counter(values)
    total = len(values)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shares = {key: round(count / total, 4) for key, count in ordered}
    residue = round(1 - sum(shares.values()), 4)
    if residue:
        first = ordered[0][0]
        shares[first] = round(shares[first] + residue, 4)
    return shares


def primary_category(posts: Sequence[PostAnalysis]) -> str:
    counts: Counter[str] = Counter()
    confidence: defaultdict[str, float] = defaultdict(float)
    for post in posts:
        counts[post.category] += 1
        confidence[post.category] += post.category_confidence
    if not counts:
        return ""
    return min(counts, key=lambda name: (-counts[name], -confidence[name], name))


def caption_substance(caption: str) -> float:
    words = _WORD_RE.findall(_NOISE_RE.sub(" ", caption or ""))
    return min(1.0, len(words) / SUBSTANTIVE_CAPTION_WORDS)


def hashtag_hygiene(count: int) -> float:
    if count == 0:
        return NO_HASHTAG_SCORE
    if count <= MAX_CLEAN_HASHTAGS:
        return 1.0
    return max(0.0, 1 - (count - MAX_CLEAN_HASHTAGS) / (INSTAGRAM_HASHTAG_CAP - MAX_CLEAN_HASHTAGS))


def tone(score: float) -> float:
    score = max(-1.0, min(1.0, score))
    return NEUTRAL_TONE + (1 - NEUTRAL_TONE) * score if score >= 0 else NEUTRAL_TONE * (1 + score)


def category_focus(shares: Mapping[str, float], posts: int, categories: int = DEFAULT_CATEGORY_COUNT) -> float:
    span = min(posts, categories)
    if span <= 1 or len(shares) <= 1:
        return 1.0
    entropy = -sum(p * math.log(p) for p in shares.values() if p > 0)
    return max(0.0, min(1.0, 1 - entropy / math.log(span)))


def _hashtag_count(post: PostAnalysis) -> int:
    if post.hashtags:
        return len(set(post.hashtags))
    return len(set(_HASHTAG_RE.findall(post.caption or "")))


def quality_components(
    posts: Sequence[PostAnalysis], category_shares: Mapping[str, float], language_shares: Mapping[str, float],
    categories: int = DEFAULT_CATEGORY_COUNT,
) -> dict[str, float]:  # fmt: skip
    n = len(posts)
    return {
        "caption_substance": sum(caption_substance(p.caption) for p in posts) / n,
        "hashtag_hygiene": sum(hashtag_hygiene(_hashtag_count(p)) for p in posts) / n,
        "tone": sum(tone(p.sentiment_score) for p in posts) / n,
        "category_focus": category_focus(category_shares, n, categories),
        "language_consistency": max(language_shares.values()) if language_shares else 0.0,
    }


def aggregate_profile(posts: Sequence[PostAnalysis], *, categories: int = DEFAULT_CATEGORY_COUNT) -> ProfileAggregate:
    """Aggregate the analysed posts of one profile (posts without a category are skipped).

    ``categories`` is the number of configured categories (for the focus component).
    """
    analysed = [p for p in posts if p.category]
    if not analysed:
        return ProfileAggregate(0, "", {}, None, {}, None, {})
    category_shares = distribution([p.category for p in analysed])
    language_shares = distribution([p.language or "other" for p in analysed])
    components = quality_components(analysed, category_shares, language_shares, categories)
    score = sum(QUALITY_WEIGHTS[name] * value for name, value in components.items())
    return ProfileAggregate(
        posts_analysed=len(analysed),
        primary_category=primary_category(analysed),
        category_distribution=category_shares,
        avg_sentiment_score=round(sum(p.sentiment_score for p in analysed) / len(analysed), 4),
        language_distribution=language_shares,
        content_quality_score=round(max(0.0, min(1.0, score)), 4),
        quality_components={name: round(value, 4) for name, value in components.items()},
    )
