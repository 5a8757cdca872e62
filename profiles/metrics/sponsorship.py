"""Sponsored-post detection from the caption, the hashtags and Instagram's own label.

Matching is case- and accent-insensitive (captions are lower-cased and stripped of
diacritics first, so "#Publicité" matches "publicite") and whole-word only: "#ad" is a
signal, "#adventure" is not. Disclosure hashtags are matched exactly; words that are
often used innocently are only signals inside a disclosure phrase (see README).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from profiles.metrics.inputs import PostStats

# Exact hashtags (accent-stripped, lower case, without "#").
SPONSORED_HASHTAGS = frozenset(
    {
        # English
        "ad", "ads", "advert", "advertisement", "sponsored", "sponsor", "partner", "paidpartnership",
        "paidpartner", "ambassador", "brandambassador", "collab", "gifted",
        # German
        "werbung", "anzeige", "bezahltepartnerschaft",
        # Spanish / Portuguese
        "publicidad", "publi", "publicidade", "publipost", "parceria", "patrocinado", "colaboracionpagada",
        # French
        "publicite", "sponsorise", "partenariat", "partenariatremunere",
        # Italian
        "pubblicita", "sponsorizzato", "adv",
        # Dutch
        "reclame", "gesponsord",
    }
)  # fmt: skip

# Phrases in the caption. Each pattern runs on the accent-stripped, lower-cased caption.
SPONSORED_PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("paid partnership", r"\bpaid partnership\b"),
        ("in partnership with", r"\bin partnership with\b"),
        ("sponsored by", r"\bsponsored by\b"),
        ("thanks ... for sponsoring", r"\bthank(?:s| you)\b[^.!?\n]{0,80}?\bfor sponsoring\b"),
        ("paid collab", r"\bpaid collab(?:oration)?\b"),
        ("publi", r"(?<![#\w])publi\b"),
        # German: "unbezahlte/unbeauftragte Werbung" is a disclosure that a post is NOT paid.
        ("werbung / anzeige", r"(?<!unbezahlte )(?<!unbeauftragte )(?<![#\w])(?:werbung|anzeige)\b"),
        ("bezahlte partnerschaft", r"\bbezahlte partnerschaft\b"),
        ("partenariat remunere", r"\bpartenariat remunere\b"),
        ("en partenariat avec", r"\ben partenariat avec\b"),
        ("sponsorise par", r"\bsponsorise par\b"),
        ("patrocinado por", r"\bpatrocinad[oa] por\b"),
        ("colaboracion pagada", r"\bcolaboracion pagada\b"),
        ("parceria paga", r"\bparceria paga\b"),
        ("sponsorizzato da", r"\bsponsorizzat[oa] da\b"),
        ("collaborazione retribuita", r"\bcollaborazione retribuita\b"),
    )
)

INSTAGRAM_LABEL = "instagram paid-partnership label"
_CAPTION_HASHTAG = re.compile(r"#(\w+)")


@dataclass(frozen=True)
class Sponsorship:
    is_sponsored: bool
    signals: list[str] = field(default_factory=list)


def fold(text: str) -> str:
    """Lower case without diacritics: "Publicité" -> "publicite"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def normalize_tag(tag: str) -> str:
    """A hashtag or mention without its leading "#"/"@", lower case (accents kept)."""
    return (tag or "").strip().lstrip("#@").strip().casefold()


def caption_hashtags(caption: str) -> list[str]:
    return [match.casefold() for match in _CAPTION_HASHTAG.findall(caption or "")]


def detect_sponsorship(*, caption: str, hashtags: Sequence[str] = (), is_sponsored_flag: bool = False) -> Sponsorship:
    """Whether a post discloses a paid relationship, with every signal that matched.

    Signals, in this order: Instagram's own paid-partnership label
    (``is_sponsored_flag``), disclosure hashtags (from ``hashtags`` and from the caption,
    reported as "#tag" in folded form), then caption phrases (reported by name).
    """
    signals: list[str] = []
    if is_sponsored_flag:
        signals.append(INSTAGRAM_LABEL)
    seen: set[str] = set()
    for tag in [*hashtags, *caption_hashtags(caption)]:
        folded = fold(normalize_tag(tag))
        if folded in SPONSORED_HASHTAGS and folded not in seen:
            seen.add(folded)
            signals.append(f"#{folded}")
    text = fold(caption)
    signals.extend(name for name, pattern in SPONSORED_PHRASES if pattern.search(text))
    return Sponsorship(is_sponsored=bool(signals), signals=signals)


def post_sponsorship(post: PostStats) -> Sponsorship:
    return detect_sponsorship(caption=post.caption, hashtags=post.hashtags, is_sponsored_flag=post.is_sponsored_flag)
