"""The embedding shortlist of categories for the transformer engine's zero-shot step.

AI worker only (it runs the sentence-embedding model). With
``AI_CATEGORY_TOP_K`` = K > 0 the transformer engine asks its NLI model about K categories
per post instead of all of them; the NLI step is 95% of its time. Without this shortlist the
K are the categories with the most keyword/hashtag evidence, and a post without evidence
keeps every category (most captions: no time saved for them). With it, every post gets K:
those with evidence first, then the rest by the cosine between the caption's embedding and
the category prototypes of the embeddings engine's heads (``analysis.engines.heads``).

Measured on ``../shared/data/eval/topics`` (178 English tweets; the eval set measures, it
tunes nothing): one of the tweet's gold categories is among the 5 shortlisted for 93.8% of
tweets, against 83.1% for the evidence-only shortlist (which keeps all 20 for the third of
tweets without evidence); 96.6% with K = 6.

The caption embeddings are the ones the AI stage computes anyway for the lookalike search
(same model, same text, memoised by the embedder), so the shortlist costs one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.embeddings import clean_text
from analysis.engines.heads import Heads, check_heads_model


class EmbeddingShortlist:
    """``similarities(captions)`` -> (n x categories) cosines to the category prototypes."""

    def __init__(self, embedder: Any, heads: Heads, categories: Sequence[str]) -> None:
        check_heads_model(heads, embedder.model_id)
        self.embedder = embedder
        self.categories = list(categories)
        self.prototypes = heads.prototypes_for(self.categories, embedder.encode)
        self.version = f"{embedder.model_id}:{heads.version}"

    def similarities(self, captions: Sequence[str]) -> np.ndarray:
        if not captions:
            return np.zeros((0, len(self.categories)), dtype=np.float32)
        return self.embedder.encode([clean_text(c) for c in captions]) @ self.prototypes.T
