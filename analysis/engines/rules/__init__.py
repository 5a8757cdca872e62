"""The rule-based engine: VADER sentiment, py3langid language, keyword categories.

Works offline with no model download, in plain Python (no Django needed when the
categories are passed in). The lexicons and the language model are loaded once per
process (``warm_up``) and shared by every engine instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.categories import DEFAULT_CATEGORY, category_evidence, pick_category
from analysis.engines.base import FORMAT_VERSION, OTHER_LANGUAGE, PostInput, PostResult
from analysis.engines.rules.language import get_identifier, identify_language, langid_version
from analysis.engines.rules.sentiment import get_analyzer, score_sentiment, vader_version

__all__ = ["KEYWORDS_VERSION", "RulesEngine", "category_evidence", "post_category_evidence", "warm_up"]

# Bump when the keyword tables or the scoring rules change.
KEYWORDS_VERSION = 2  # 2: evidence no longer depends on the process's hash seed
# Languages VADER's lexicon covers. Other languages get emoji-only sentiment.
SENTIMENT_LANGUAGES = frozenset({"en"})


def warm_up() -> None:
    """Load VADER's lexicons and the langid model now rather than on the first post."""
    get_analyzer()
    get_identifier()


def post_category_evidence(post: PostInput, categories: Sequence[str]) -> dict[str, float]:
    """``category_evidence`` for a ``PostInput`` (its caption plus its hashtag list)."""
    return category_evidence(post.caption, post.hashtags, categories)


def _sentiment_supported(language: str, language_raw: dict[str, Any]) -> bool:
    if language in SENTIMENT_LANGUAGES:
        return True
    if language != OTHER_LANGUAGE:
        return False
    # Too little text to identify (hashtags, emoji, a word or two): VADER's lexicon only
    # matches English words ("#blessed", "#NotHappy") and emoji, so it cannot misread
    # another language. Unidentified text with English among langid's guesses: likewise.
    return language_raw.get("language_reason") == "too_short" or any(
        code == "en" for code, _ in language_raw.get("langid_top3", [])
    )


class RulesEngine:
    name = "rules"

    def __init__(self, categories: Sequence[str] | None = None, default_category: str = DEFAULT_CATEGORY) -> None:
        if categories is None:
            from django.conf import settings

            categories = settings.AI_CATEGORIES
        self.categories = list(categories)
        self.default_category = default_category

    @property
    def version(self) -> str:
        return f"rules:vader-{vader_version()}+py3langid-{langid_version()}+kw-{KEYWORDS_VERSION}:f{FORMAT_VERSION}"

    def analyse(self, posts: list[PostInput]) -> list[PostResult]:
        warm_up()
        version = self.version
        return [self._analyse_one(post, version) for post in posts]

    def _analyse_one(self, post: PostInput, version: str) -> PostResult:
        caption = post.caption or ""
        language, language_confidence, language_raw = identify_language(caption)
        supported = _sentiment_supported(language, language_raw)
        sentiment, score, sentiment_confidence, sentiment_raw = score_sentiment(caption, supported=supported)
        evidence = category_evidence(caption, post.hashtags, self.categories)
        category, category_confidence, from_evidence = pick_category(evidence, self.categories, self.default_category)
        raw = {
            **sentiment_raw,
            **language_raw,
            "category_evidence": {name: value for name, value in evidence.items() if value > 0},
            "category_source": "keywords" if from_evidence else "default",
        }
        return PostResult(
            key=post.key,
            sentiment=sentiment,
            sentiment_score=score,
            sentiment_confidence=sentiment_confidence,
            language=language,
            language_confidence=language_confidence,
            category=category,
            category_confidence=category_confidence,
            engine=self.name,
            engine_version=version,
            raw=raw,
        )
