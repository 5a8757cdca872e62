"""The engine interface shared by the rule-based and the transformer engines.

An engine takes a batch of ``PostInput`` and returns one ``PostResult`` per input, in the
same order. Engines are pure: no database, no Django models. Every result carries the
engine's name, its model ids and ``FORMAT_VERSION`` so that results can be traced and
recomputed when any of them changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

# Bump when the shape or meaning of PostResult changes.
FORMAT_VERSION = 1

SENTIMENT_LABELS = ("negative", "neutral", "positive")

# The 20 languages of papluca/xlm-roberta-base-language-detection; anything else is "other".
LANGUAGES = (
    "ar", "bg", "de", "el", "en", "es", "fr", "hi", "it", "ja",
    "nl", "pl", "pt", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip
OTHER_LANGUAGE = "other"


@dataclass(frozen=True, slots=True)
class PostInput:
    key: str  # the caller's id for the post (e.g. instagram_post_id); echoed in the result
    caption: str = ""
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()


@dataclass(slots=True)
class PostResult:
    key: str
    sentiment: str  # one of SENTIMENT_LABELS
    sentiment_score: float  # -1..1 (negative .. positive)
    sentiment_confidence: float  # 0..1
    language: str  # ISO 639-1 code from LANGUAGES, or OTHER_LANGUAGE
    language_confidence: float  # 0..1
    category: str  # one of the configured categories
    category_confidence: float  # 0..1
    engine: str  # e.g. "rules" or "transformers"
    engine_version: str  # engine name + model ids + FORMAT_VERSION, for tracing
    raw: dict[str, Any] = field(default_factory=dict)  # per-model details (scores per label...)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Engine(Protocol):
    name: str

    @property
    def version(self) -> str: ...

    def analyse(self, posts: list[PostInput]) -> list[PostResult]: ...
