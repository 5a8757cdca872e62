"""Loading and batched inference of sequence-classification models (AI worker only).

This module imports torch and transformers at import time, so only the transformer engine
imports it, and only when the engine is built; the web process never does.

Speed on CPU comes from doing less work, not from bigger batches: inputs are tokenized
without padding, truncated to ``max_length``, sorted by length and cut into token-budgeted
buckets, so each forward pass pads only to the longest row of rows of almost equal length.
The results equal the per-input ``transformers.pipeline`` (same tokenization, same
truncation, right padding masked out) to floating-point noise.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import mmap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

logger = logging.getLogger(__name__)

MADV_DONTNEED = 4  # Linux
# A tokenizer without a real limit reports this huge sentinel as model_max_length.
_NO_LIMIT = 1_000_000


@dataclass
class LoadedModel:
    model_id: str
    tokenizer: Any
    model: Any
    device: torch.device
    id2label: dict[int, str]
    max_length: int  # tokens per input after truncation: min(AI_MAX_TOKENS, the model's limit)
    input_names: tuple[str, ...]
    pad_id: int
    forward_passes: int = field(default=0)  # counted for tests and the benchmark
    padded_tokens: int = field(default=0)  # rows x width of every forward pass
    forward_seconds: float = field(default=0.0)  # wall time inside the model

    @property
    def num_labels(self) -> int:
        return len(self.id2label)


def pick_device(preferred: str | None = None) -> torch.device:
    """``preferred`` ("cpu", "cuda", "cuda:1") or CUDA when available, else the CPU."""
    if preferred:
        return torch.device(preferred)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads(threads: int) -> None:
    """``torch.set_num_threads(threads)`` when ``threads`` > 0 (0 keeps torch's default)."""
    if threads > 0:
        torch.set_num_threads(threads)


def model_limit(tokenizer: Any, config: Any) -> int:
    """The longest input the model accepts, from the tokenizer or the position embeddings."""
    limit = getattr(tokenizer, "model_max_length", None) or _NO_LIMIT
    if limit < _NO_LIMIT:
        return int(limit)
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return 512
    # RoBERTa-style position ids start after the padding index.
    if getattr(config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
        return int(positions) - int(config.pad_token_id or 0) - 1
    return int(positions)


QUANTIZE_MODES = ("", "int8", "bf16")
INT8_BACKENDS = ("auto", "x86", "fbgemm", "onednn", "qnnpack")


def check_quantize(quantize: str) -> str:
    """``quantize`` when it is an ``AI_QUANTIZE`` mode, else a ValueError naming the setting."""
    if quantize not in QUANTIZE_MODES:
        raise ValueError(f"Unknown AI_QUANTIZE value {quantize!r} (expected one of {QUANTIZE_MODES}).")
    return quantize


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (Linux; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


# torch's own choice (x86, i.e. fbgemm, on x86 CPUs), before load_model changes it.
DEFAULT_INT8_BACKEND = torch.backends.quantized.engine


def int8_backend(requested: str = "auto", flags: frozenset[str] | None = None, *, main: bool = True) -> str:
    """The quantized engine that runs a model's dynamic int8 Linear layers (``AI_INT8_BACKEND``).

    ``auto`` picks oneDNN for the ``main`` model (the NLI model, 95% of the work) on CPUs
    with AMX int8 tiles: its int8 matrix products run on AMX, 1.6x fbgemm's AVX-512 VNNI
    kernels on bart-large on the 2-core development machine. oneDNN also keeps the original
    int8 weights beside its packed copy, so the small sentiment and language models, where
    speed hardly matters, stay on torch's default (``x86``, i.e. fbgemm), as every model
    does on other CPUs. Any other value applies to every model and must be an engine this
    torch build supports.
    """
    if requested not in INT8_BACKENDS:
        raise ValueError(f"Unknown AI_INT8_BACKEND value {requested!r} (expected one of {INT8_BACKENDS}).")
    supported = torch.backends.quantized.supported_engines
    if requested == "auto":
        flags = cpu_flags() if flags is None else flags
        amx = "amx_int8" in flags and "onednn" in supported
        return "onednn" if main and amx else DEFAULT_INT8_BACKEND
    if requested not in supported:
        raise ValueError(f"AI_INT8_BACKEND={requested!r} is not supported by this torch build ({supported}).")
    return requested


def load_model(
    model_id: str, *, max_tokens: int, device: torch.device, quantize: str = "", backend: str = ""
) -> LoadedModel:
    """Load a hub id or a local directory; fp16 on CUDA; on CPU dynamic int8 Linear layers or bf16.

    ``backend`` is the quantized engine for int8 (see ``int8_backend``; "" = torch's default); bf16 keeps the
    weights and activations in bfloat16 (fast on CPUs with AVX-512 BF16 or AMX; slow, but
    correct, elsewhere) and returns float32 logits like every mode.

    Raises whatever transformers raises when the model cannot be loaded (missing path,
    no network, bad config); the registry turns that into a fallback or a clear error.
    """
    check_quantize(quantize)
    source = str(Path(model_id).expanduser()) if Path(model_id).expanduser().is_dir() else model_id
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForSequenceClassification.from_pretrained(source)
    model.eval()
    if device.type == "cuda":
        model = model.half().to(device)
    elif quantize == "int8":
        # Weights are packed for the engine that is current when they are quantised.
        torch.backends.quantized.engine = backend or DEFAULT_INT8_BACKEND
        quantize_int8(model)
    elif quantize == "bf16":
        if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            logger.warning("AI_QUANTIZE=bf16 on a CPU without native bfloat16: correct but slower than fp32.")
        model = model.to(torch.bfloat16)
    limit = model_limit(tokenizer, model.config)
    max_length = min(max_tokens, limit) if max_tokens > 0 else limit
    if tokenizer.pad_token_id is None:
        # What the zero-shot pipeline does for tokenizers without a padding token.
        tokenizer.pad_token = tokenizer.eos_token
    id2label = {int(i): str(label) for i, label in model.config.id2label.items()}
    names = tuple(
        name for name in tokenizer.model_input_names if name in {"input_ids", "attention_mask", "token_type_ids"}
    )
    return LoadedModel(
        model_id=model_id,
        tokenizer=tokenizer,
        model=model,
        device=device,
        id2label=id2label,
        max_length=max_length,
        input_names=names or ("input_ids", "attention_mask"),
        pad_id=int(tokenizer.pad_token_id),
    )


def quantize_int8(model: Any) -> Any:
    """Dynamic int8 Linear layers and 8-bit (per-row) embedding tables, in place.

    The same modules as ``quantize_dynamic`` with those two qconfigs, replaced one at a
    time: each fp32 weight's pages (memory-mapped from the safetensors file) are dropped
    from memory as soon as its layer is replaced, so loading peaks near the int8 size
    instead of the fp32 one. The embedding tables matter for memory, not speed: XLM-R's
    250,002 x 768 table is 768 MB in fp32.
    """
    from torch.ao.nn.quantized import Embedding as QuantizedEmbedding
    from torch.ao.nn.quantized.dynamic import Linear as QuantizedLinear
    from torch.ao.quantization import default_dynamic_qconfig, float_qparams_weight_only_qconfig

    file_ranges = _safetensors_mappings()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear:
                child.qconfig = default_dynamic_qconfig
                replacement = QuantizedLinear.from_float(child)
            elif type(child) is torch.nn.Embedding:
                child.qconfig = float_qparams_weight_only_qconfig
                replacement = QuantizedEmbedding.from_float(child)
            else:
                continue
            setattr(parent, name, replacement)
            _drop_file_pages(child.weight, file_ranges)
    gc.collect()
    return model


def _safetensors_mappings() -> list[tuple[int, int]]:
    """Address ranges of this process's memory-mapped safetensors files (Linux; else none)."""
    try:
        with open("/proc/self/maps") as maps:
            lines = [line.split() for line in maps if line.rstrip().endswith(".safetensors")]
    except OSError:
        return []
    return [tuple(int(x, 16) for x in line[0].split("-")) for line in lines]  # type: ignore[misc]


def _drop_file_pages(tensor: torch.Tensor, file_ranges: list[tuple[int, int]]) -> None:
    """madvise(DONTNEED) the whole pages of ``tensor`` when they are clean pages of a mapped file.

    Only file-backed pages: dropping them costs nothing (they would be read from the file
    again if touched), whereas anonymous memory would be zeroed, so anything else is left alone.
    """
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    if not any(low <= start and end <= high for low, high in file_ranges):
        return
    page = mmap.PAGESIZE
    first, last = -(-start // page) * page, end // page * page
    if last <= first:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), MADV_DONTNEED)
    except (OSError, AttributeError):
        return


def encode_texts(lm: LoadedModel, texts: list[str]) -> list[dict[str, list[int]]]:
    """Token ids of single texts, truncated as the text-classification pipeline with truncation=True."""
    if not texts:
        return []
    enc = lm.tokenizer(texts, truncation=True, max_length=lm.max_length, padding=False)
    return _rows(lm, enc, len(texts))


def encode_pairs(
    lm: LoadedModel, premises: list[str], hypotheses: list[str], *, premise_tokens: int = 0
) -> list[dict[str, list[int]]]:
    """Token ids of (premise, hypothesis) pairs, truncating only the premise like the zero-shot pipeline.

    The pair is cut at the model's ``max_length``; with ``premise_tokens`` > 0 the premise is
    also cut at that many tokens (the hypothesis is always whole), i.e. each hypothesis's
    pairs are cut at ``premise_tokens`` + its own length + the special tokens.
    """
    if not premises:
        return []
    if premise_tokens <= 0:
        return _encode_pairs(lm, premises, hypotheses, lm.max_length)
    groups: dict[str, list[int]] = {}
    for index, hypothesis in enumerate(hypotheses):
        groups.setdefault(hypothesis, []).append(index)
    specials = lm.tokenizer.num_special_tokens_to_add(pair=True)
    rows: list[dict[str, list[int]]] = [{} for _ in premises]
    for hypothesis, indices in groups.items():
        width = len(lm.tokenizer(hypothesis, add_special_tokens=False)["input_ids"])
        limit = min(lm.max_length, premise_tokens + width + specials)
        encoded = _encode_pairs(lm, [premises[i] for i in indices], [hypothesis] * len(indices), limit)
        for index, row in zip(indices, encoded, strict=True):
            rows[index] = row
    return rows


def _encode_pairs(
    lm: LoadedModel, premises: list[str], hypotheses: list[str], max_length: int
) -> list[dict[str, list[int]]]:
    try:
        enc = lm.tokenizer(premises, hypotheses, truncation="only_first", max_length=max_length, padding=False)
    except Exception as exc:
        if "too short" not in str(exc):
            raise
        # The pipeline's own fallback when a hypothesis alone exceeds the limit.
        enc = lm.tokenizer(premises, hypotheses, truncation=False, padding=False)
    return _rows(lm, enc, len(premises))


def _rows(lm: LoadedModel, enc: Any, count: int) -> list[dict[str, list[int]]]:
    names = [name for name in lm.input_names if name in enc]
    return [{name: enc[name][i] for name in names} for i in range(count)]


def buckets(lengths: list[int], *, token_budget: int, max_rows: int) -> list[list[int]]:
    """Indices sorted by length, cut so that rows x longest row stays within ``token_budget``."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    out: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Sorted ascending, so the row being added is the bucket's longest.
        if current and ((len(current) + 1) * lengths[i] > token_budget or len(current) >= max_rows):
            out.append(current)
            current = []
        current.append(i)
    if current:
        out.append(current)
    return out


def logits(lm: LoadedModel, rows: list[dict[str, list[int]]], *, token_budget: int, max_rows: int) -> np.ndarray:
    """Float32 logits (len(rows), num_labels), one forward pass per length bucket."""
    out = np.zeros((len(rows), lm.num_labels), dtype=np.float32)
    if not rows:
        return out
    lengths = [len(row["input_ids"]) for row in rows]
    for bucket in buckets(lengths, token_budget=token_budget, max_rows=max_rows):
        try:
            out[bucket] = _forward(lm, [rows[i] for i in bucket])
        except ValueError:
            if len(bucket) == 1:
                raise
            # BART needs the same number of </s> per row; a caption that spells out "</s>"
            # breaks that, so run that bucket one row at a time like the pipeline does.
            for i in bucket:
                out[i] = _forward(lm, [rows[i]])[0]
    return out


def _forward(lm: LoadedModel, rows: list[dict[str, list[int]]]) -> np.ndarray:
    width = max(len(row["input_ids"]) for row in rows)
    batch: dict[str, torch.Tensor] = {}
    for name in rows[0]:
        pad = lm.pad_id if name == "input_ids" else 0
        padded = [row[name] + [pad] * (width - len(row[name])) for row in rows]
        batch[name] = torch.tensor(padded, dtype=torch.long, device=lm.device)
    if "attention_mask" not in batch:
        mask = [[1] * len(row["input_ids"]) + [0] * (width - len(row["input_ids"])) for row in rows]
        batch["attention_mask"] = torch.tensor(mask, dtype=torch.long, device=lm.device)
    started = time.perf_counter()
    with torch.inference_mode():
        result = lm.model(**batch).logits
    lm.forward_seconds += time.perf_counter() - started
    lm.forward_passes += 1
    lm.padded_tokens += width * len(rows)
    return result.float().cpu().numpy()


def softmax(values: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32, computed as transformers' pipelines do."""
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def entailment_ids(id2label: dict[int, str]) -> tuple[int, int]:
    """(entailment, contradiction) label ids, found as ZeroShotClassificationPipeline does."""
    entail = next((i for i, label in id2label.items() if label.lower().startswith("entail")), -1)
    if entail == -1:
        raise ValueError("The category model's config has no 'entailment' label; it is not an NLI model.")
    # The pipeline's rule (not a label lookup), so that one-candidate scores match it.
    return entail, (-1 if entail == 0 else 0)
