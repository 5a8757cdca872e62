"""Lexicon sentiment: VADER with rules for social-media captions.

Plain VADER calls a text positive at compound >= 0.05, so a single mild word ("like",
"ok", "ready", "please") makes a caption positive. On captions and tweets those words are
mostly phatic, so this module changes four things, each chosen by reasoning about the
text, not by fitting any evaluation set:

1. **Clean-up**: URLs, @mentions and a leading "RT" carry no sentiment and are removed;
   hashtags lose their "#" and camelCase hashtags are split (``#NotHappy`` -> "Not Happy")
   so that VADER's lexicon, negation and booster rules see the words.
2. **"like"**: VADER scores every "like" +1.5, but in captions it is mostly a preposition
   or filler ("feels like Monday"). It keeps its valence only where it is a verb: after a
   subject pronoun or auxiliary ("I like", "would like", "don't like") or before an object
   pronoun ("like it", "like this").
3. **Neutral band**: the compound of one lexicon word of valence v is v / sqrt(v^2 + 15).
   One weak positive word (v <= 1.5: "like", "ok", "ready", "please" -> compound <= 0.36)
   is not enough to call a post positive, so the positive threshold is 0.4 ("thanks", 1.9
   -> 0.44, or two mild words pass it). Negative words have no such phatic use, and public
   posts soften criticism (politeness: one mild negative word often carries the whole
   complaint), so the negative threshold stays at VADER's published -0.05.
4. **Sentences**: VADER's negation looks back three words, across sentence ends ("Not
   happy. Worst day ever" would negate "worst"). Each sentence (and each hashtag, a unit
   of its own) is scored alone; their raw valence sums (recovered from the compounds by
   inverting VADER's normalisation x / sqrt(x^2 + 15)) are added and normalised again.
5. **Languages**: VADER's lexicon is English. For other languages only the emoji (which
   VADER maps to English descriptions) are scored; the result is marked
   ``sentiment_supported=False`` and its confidence is capped at 0.3.
"""

from __future__ import annotations

import math
import re
import threading
from functools import lru_cache
from typing import Any

POSITIVE_THRESHOLD = 0.4
NEGATIVE_THRESHOLD = -0.05
UNSUPPORTED_CONFIDENCE_CAP = 0.3

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<!\w)@[\w.]+")
HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")
RT_RE = re.compile(r"^\s*RT\b:?", re.IGNORECASE)
CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
WORD_RE = re.compile(r"[\w']+")
SENTENCE_END_RE = re.compile(r"(?<=[.!?;])\s+|\s*\n\s*")
VADER_ALPHA = 15.0  # VADER's normalisation constant
MAX_UNIT_COMPOUND = 0.999  # keep the inverse finite

# "like" is a verb after these ...
_LIKE_VERB_BEFORE = frozenset(
    "i we you they u he she would i'd we'd you'd they'd really also totally dont don't didnt didn't "
    "doesnt doesn't do does did to just still always actually definitely kinda who not never "
    "cant can't cannot wont won't wouldnt wouldn't will might may i'll we'll you'll".split()
)
# ... or before these.
_LIKE_VERB_AFTER = frozenset("it it's this that them him her you me these those".split())

_lock = threading.Lock()
_analyzer: Any = None


def get_analyzer() -> Any:
    """The process-wide VADER analyser (its lexicons are read once)."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


@lru_cache(maxsize=1)
def vader_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vaderSentiment")
    except PackageNotFoundError:  # vendored copy without metadata
        return "unknown"


def _split_hashtag(match: re.Match[str]) -> str:
    # A hashtag is a unit of its own: end the sentence before and after it.
    return "\n" + CAMEL_RE.sub(" ", match.group(1)).replace("_", " ") + "\n"


def _neutralise_like(text: str) -> str:
    tokens = list(WORD_RE.finditer(text))
    out: list[str] = []
    pos = 0
    for i, token in enumerate(tokens):
        if token.group(0).lower() != "like":
            continue
        before = tokens[i - 1].group(0).lower() if i > 0 else ""
        after = tokens[i + 1].group(0).lower() if i + 1 < len(tokens) else ""
        if before in _LIKE_VERB_BEFORE or after in _LIKE_VERB_AFTER:
            continue
        out.append(text[pos : token.start()])
        out.append("resembling")  # not in VADER's lexicon: no valence
        pos = token.end()
    out.append(text[pos:])
    return "".join(out)


def clean_for_sentiment(text: str) -> str:
    text = RT_RE.sub(" ", text)
    text = URL_RE.sub(" ", text)
    text = MENTION_RE.sub(" ", text)
    text = HASHTAG_RE.sub(_split_hashtag, text)
    return _neutralise_like(text)


def _raw_valence(compound: float) -> float:
    c = max(-MAX_UNIT_COMPOUND, min(MAX_UNIT_COMPOUND, compound))
    return c * math.sqrt(VADER_ALPHA) / math.sqrt(1 - c * c)


def sentence_compound(text: str) -> tuple[float, list[float]]:
    """VADER per sentence, raw valences added, normalised as VADER does."""
    analyzer = get_analyzer()
    units = [u for u in SENTENCE_END_RE.split(text) if u and u.strip()]
    compounds = [float(analyzer.polarity_scores(u)["compound"]) for u in units]
    total = sum(_raw_valence(c) for c in compounds)
    return total / math.sqrt(total * total + VADER_ALPHA), compounds


def emoji_only(text: str) -> str:
    emojis = get_analyzer().emojis
    return " ".join(ch for ch in text if ch in emojis)


def label_for(compound: float) -> str:
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def confidence_for(compound: float, label: str) -> float:
    """0.5 at a threshold, rising linearly to 1 at the extreme; neutral is surest at 0."""
    if label == "positive":
        span = (compound - POSITIVE_THRESHOLD) / (1 - POSITIVE_THRESHOLD)
    elif label == "negative":
        span = (NEGATIVE_THRESHOLD - compound) / (1 + NEGATIVE_THRESHOLD)
    else:
        bound = POSITIVE_THRESHOLD if compound >= 0 else -NEGATIVE_THRESHOLD
        span = 1 - abs(compound) / bound
    return round(0.5 + 0.5 * max(0.0, min(1.0, span)), 4)


def score_sentiment(text: str, *, supported: bool = True) -> tuple[str, float, float, dict[str, Any]]:
    """(label, compound -1..1, confidence 0..1, raw VADER scores) for one caption."""
    cleaned = clean_for_sentiment(text) if supported else emoji_only(text)
    compound, unit_compounds = sentence_compound(cleaned)
    label = label_for(compound)
    confidence = confidence_for(compound, label)
    if not supported:
        confidence = round(min(confidence, UNSUPPORTED_CONFIDENCE_CAP), 4)
    raw = {
        "vader_compound": round(compound, 4),
        "vader_sentences": [round(c, 4) for c in unit_compounds[:20]],
        "sentiment_supported": supported,
        "sentiment_input": "text" if supported else "emoji_only",
    }
    return label, round(compound, 4), confidence, raw
