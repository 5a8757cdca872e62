"""Statistical language identification with py3langid, restricted to the 20 languages.

The text is stripped of URLs, mentions, hashtags, emoji, digits and punctuation first:
they say nothing about the language and hashtags are often English in any language.
The answer is ``OTHER_LANGUAGE`` when fewer than ``MIN_LETTERS`` letters remain (a
caption of only hashtags, emoji or links; Chinese and Japanese carry a word in one or two
characters, so for those scripts ``MIN_LETTERS_CJK`` applies), or when the full model (all
97 languages of langid) is sure, at ``OUTSIDE_CONFIDENCE`` or more, of a language outside
the 20 (Swedish, Catalan, Ukrainian...) and the 20 do not themselves point at one language
(renormalised probability below ``INSIDE_DECISIVE``: Turkish typed with mojibake reads as
Turkmen to the full model, yet as Turkish at 0.99 among the 20). Otherwise the answer is the best of the 20, its
confidence the probability renormalised over the 20. A low confidence there is not a
reason for "other" unless it is below ``MIN_CONFIDENCE`` (4x the uniform 1/20): short
sentences split their probability between close relatives (es/pt/it, ru/bg) while the best
guess is still right.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from analysis.engines.base import LANGUAGES, OTHER_LANGUAGE

MIN_LETTERS = 4
MIN_LETTERS_CJK = 2
OUTSIDE_CONFIDENCE = 0.9
MIN_CONFIDENCE = 0.2
INSIDE_DECISIVE = 0.95

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<!\w)@[\w.]+")
HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")
NON_LETTER_RE = re.compile(r"[\W\d_]+")
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_LANGUAGE_SET = frozenset(LANGUAGES)
_lock = threading.Lock()
_identifier: Any = None


def get_identifier() -> Any:
    """The process-wide py3langid identifier over all its languages (loaded once)."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                _identifier = identifier
    return _identifier


@lru_cache(maxsize=1)
def langid_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("py3langid")
    except PackageNotFoundError:
        return "unknown"


def clean_for_language(text: str) -> str:
    text = URL_RE.sub(" ", text)
    text = MENTION_RE.sub(" ", text)
    text = HASHTAG_RE.sub(" ", text)
    # Emoji, digits and punctuation are all non-letters: keep letters and single spaces.
    return " ".join(NON_LETTER_RE.sub(" ", text).split())


def identify_language(text: str) -> tuple[str, float, dict[str, Any]]:
    """(language code or OTHER_LANGUAGE, confidence 0..1, raw ranking) for one caption."""
    cleaned = clean_for_language(text)
    letters = len(cleaned.replace(" ", ""))
    cjk = len(CJK_RE.findall(cleaned))
    if letters < MIN_LETTERS and cjk < MIN_LETTERS_CJK:
        return OTHER_LANGUAGE, 0.0, {"langid_top3": [], "language_reason": "too_short"}
    ranking = get_identifier().rank(cleaned)
    best_code, best_prob = ranking[0]
    inside = [(code, float(prob)) for code, prob in ranking if code in _LANGUAGE_SET]
    total = sum(prob for _, prob in inside)
    top3 = [[code, round(prob / total, 4) if total > 0 else 0.0] for code, prob in inside[:3]]
    raw: dict[str, Any] = {"langid_top3": top3, "langid_best_overall": [best_code, round(float(best_prob), 4)]}
    if total <= 0:
        return OTHER_LANGUAGE, round(float(best_prob), 4), {**raw, "language_reason": "outside_languages"}
    code, prob = inside[0]
    confidence = prob / total
    if best_code not in _LANGUAGE_SET and best_prob >= OUTSIDE_CONFIDENCE and confidence < INSIDE_DECISIVE:
        return OTHER_LANGUAGE, round(float(best_prob), 4), {**raw, "language_reason": "outside_languages"}
    if confidence < MIN_CONFIDENCE:
        return OTHER_LANGUAGE, round(1 - confidence, 4), {**raw, "language_reason": "low_confidence"}
    return code, round(confidence, 4), {**raw, "language_reason": "identified"}
