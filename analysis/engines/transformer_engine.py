"""The transformer engine: sentiment, language and zero-shot category models, batched.

Imported only by ``analysis.engines.registry`` when the engine is built, in the AI worker
(it imports torch through ``hf_models``). One ``analyse`` call:

1. hashes each post (caption, hashtags, engine version) and takes cached results;
2. deduplicates the rest by that hash; empty captions get an evidence-only result;
3. runs the language model on all captions, then the sentiment model on the captions whose
   language the sentiment model covers (``AI_SENTIMENT_LANGUAGES``, empty = all);
4. builds the (caption, hypothesis) NLI pairs of every post and candidate category
   (``AI_CATEGORY_TOP_K`` > 0 keeps the K categories with most keyword/hashtag evidence,
   all of them when a post has none; with an embedding shortlist (``use_shortlist``, set by
   the registry when the embedding model is loaded beside the engine) every post keeps K:
   evidence first, then the categories nearest the caption's embedding;
   ``AI_CATEGORY_MAX_TOKENS`` > 0 reads only that many
   caption tokens per pair) and runs them together, one forward pass per length bucket;
5. blends the zero-shot distribution with the keyword/hashtag evidence (see ``blend``)
   and stores the results in the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from analysis.engines import hf_models
from analysis.engines.base import FORMAT_VERSION, LANGUAGES, OTHER_LANGUAGE, SENTIMENT_LABELS, PostInput, PostResult
from analysis.engines.cache import cached_results, result_fingerprint, store_results
from analysis.engines.rules import post_category_evidence

logger = logging.getLogger(__name__)

NAME = "transformers"
# Padded tokens per forward pass (AI_TOKENS_PER_PASS=0). Larger passes are no faster on
# CPU (the matrices are already big enough) but cost memory. With fbgemm int8 and fp32,
# 4,096-token passes added 1 GB to the worker's peak, 1,024-token passes nothing beyond
# loading. oneDNN's int8 kernels keep per-pass buffers that the allocator holds on to:
# at 1,024 tokens the three-model worker peaked at 2.6 GB, at 256 at 2.0 GB, equally fast.
TOKENS_PER_PASS = 1024
ONEDNN_INT8_TOKENS_PER_PASS = 256
EvidenceFn = Callable[[PostInput, Sequence[str]], dict[str, float]]


@dataclass(frozen=True)
class TransformersOptions:
    sentiment_model: str
    language_model: str
    category_model: str
    categories: tuple[str, ...]
    hypothesis_template: str = "This example is about {}."
    max_tokens: int = 128  # 0: the model's own limit
    category_max_tokens: int = 0  # caption tokens in each NLI pair; 0: as max_tokens
    batch_size: int = 32  # rows per forward pass at most
    tokens_per_pass: int = 0  # padded tokens per forward pass at most; 0: see TOKENS_PER_PASS
    threads: int = 0
    quantize: str = ""  # "" | "int8" | "bf16" (CPU only; CUDA runs fp16)
    int8_backend: str = "auto"  # quantized engine for int8: auto | x86 | fbgemm | onednn | qnnpack
    top_k: int = 0  # 0: every category (exact zero-shot)
    sentiment_languages: tuple[str, ...] = ()  # empty: every language
    evidence_weight: float = 0.3  # 0: the zero-shot label alone (exactly the pipeline's)
    cache_seconds: int = 7 * 24 * 3600
    device: str | None = None  # None: CUDA when available, else CPU
    default_category: str = "Lifestyle"  # empty caption and no evidence

    @classmethod
    def from_settings(cls, **overrides: Any) -> TransformersOptions:
        from django.conf import settings

        values: dict[str, Any] = {
            "sentiment_model": settings.AI_SENTIMENT_MODEL,
            "language_model": settings.AI_LANGUAGE_MODEL,
            "category_model": settings.AI_CATEGORY_MODEL,
            "categories": tuple(settings.AI_CATEGORIES),
            "hypothesis_template": settings.AI_HYPOTHESIS_TEMPLATE,
            "max_tokens": settings.AI_MAX_TOKENS,
            "category_max_tokens": settings.AI_CATEGORY_MAX_TOKENS,
            "batch_size": settings.AI_BATCH_SIZE,
            "tokens_per_pass": settings.AI_TOKENS_PER_PASS,
            "threads": settings.AI_TORCH_THREADS,
            "quantize": settings.AI_QUANTIZE,
            "int8_backend": settings.AI_INT8_BACKEND,
            "top_k": settings.AI_CATEGORY_TOP_K,
            "sentiment_languages": tuple(settings.AI_SENTIMENT_LANGUAGES),
            "evidence_weight": settings.AI_CATEGORY_EVIDENCE_WEIGHT,
            "cache_seconds": settings.AI_CACHE_SECONDS,
        }
        values.update(overrides)
        values["categories"] = tuple(values["categories"])
        values["sentiment_languages"] = tuple(values["sentiment_languages"])
        return cls(**values)


def _default_evidence() -> EvidenceFn:
    return post_category_evidence


def blend(zero_shot: dict[str, float], evidence: dict[str, float], weight: float) -> dict[str, float]:
    """final(c) = (1 - w) * zero_shot(c) + w * evidence(c) / sum(evidence); zero_shot alone without evidence.

    ``zero_shot`` is the pipeline's single-label distribution (softmax of the entailment
    logits over the candidate categories; 0 for categories left out by top-K).
    """
    total = sum(value for value in evidence.values() if value > 0)
    if weight <= 0 or total <= 0:
        return dict(zero_shot)
    return {
        name: (1 - weight) * zero_shot.get(name, 0.0) + weight * max(evidence.get(name, 0.0), 0.0) / total
        for name in zero_shot
    }


def _argmax(scores: dict[str, float], order: Sequence[str]) -> str:
    # First of the configured order on ties, so results do not depend on dict order.
    return max(order, key=lambda name: (scores.get(name, 0.0), -order.index(name)))


def _sentiment_label(label: str, index: int, count: int) -> str:
    name = label.lower()
    if name in SENTIMENT_LABELS:
        return name
    if count == 3 and name.startswith("label_"):
        return SENTIMENT_LABELS[index]  # the LABEL_0/1/2 convention of older sentiment models
    raise ValueError(f"Sentiment label {label!r} is not one of {SENTIMENT_LABELS}.")


@dataclass
class _Work:
    post: PostInput
    fingerprint: str
    evidence: dict[str, float] = field(default_factory=dict)
    language: np.ndarray | None = None
    sentiment: np.ndarray | None = None
    candidates: list[str] = field(default_factory=list)
    zero_shot: dict[str, float] = field(default_factory=dict)
    similarity: np.ndarray | None = None  # cosines to the category prototypes (shortlist)


class Shortlist(Protocol):
    version: str

    def similarities(self, captions: Sequence[str]) -> np.ndarray: ...


class TransformersEngine:
    name = NAME

    def __init__(self, options: TransformersOptions, *, evidence: EvidenceFn | None = None) -> None:
        self.options = options
        hf_models.check_quantize(options.quantize)
        self.evidence = evidence or _default_evidence()
        hf_models.configure_threads(options.threads)
        device = hf_models.pick_device(options.device)
        # The int8 engine of each model ("auto" resolved), part of the version: their rounding differs.
        self.int8_backends: dict[str, str] = {}
        if options.quantize == "int8" and device.type == "cpu":
            self.int8_backends = {
                role: hf_models.int8_backend(options.int8_backend, main=role == "category")
                for role in ("language", "category", "sentiment")
            }

        def load(role: str, model_id: str) -> hf_models.LoadedModel:
            try:
                return hf_models.load_model(
                    model_id,
                    max_tokens=options.max_tokens,
                    device=device,
                    quantize=options.quantize,
                    backend=self.int8_backends.get(role, ""),
                )
            except Exception as exc:
                raise RuntimeError(f"AI_{role.upper()}_MODEL={model_id!r} could not be loaded: {exc}") from exc

        # The language model first: quantising XLM-R's 768 MB embedding table needs a
        # transient copy, which costs least while nothing else is resident (int8 peak
        # 1.7 GB instead of 2.1 GB with the real sizes).
        self.language_model = load("language", options.language_model)
        self.category_model = load("category", options.category_model)
        self.sentiment_model = load("sentiment", options.sentiment_model)
        self.device = device
        count = self.sentiment_model.num_labels
        self.sentiment_labels = [_sentiment_label(self.sentiment_model.id2label[i], i, count) for i in range(count)]
        self.entailment_id, self.contradiction_id = hf_models.entailment_ids(self.category_model.id2label)
        if "{}" not in options.hypothesis_template:
            raise ValueError(f"AI_HYPOTHESIS_TEMPLATE {options.hypothesis_template!r} has no '{{}}'.")
        self.tokens_per_pass = options.tokens_per_pass or (
            ONEDNN_INT8_TOKENS_PER_PASS if self.int8_backends.get("category") == "onednn" else TOKENS_PER_PASS
        )
        self.shortlist: Shortlist | None = None
        self._version = self._build_version()

    def use_shortlist(self, shortlist: Shortlist | None) -> None:
        """Shortlist every post's NLI categories by embedding similarity (with ``top_k`` > 0; part of the version)."""
        self.shortlist = shortlist
        self._version = self._build_version()

    @classmethod
    def from_settings(cls, **overrides: Any) -> TransformersEngine:
        return cls(TransformersOptions.from_settings(**overrides))

    # --- identity -------------------------------------------------------------------
    def _build_version(self) -> str:
        o = self.options
        # Everything else that changes a result goes into a short hash, so cached results
        # of another configuration (int8, top-K, template...) are never reused.
        tuning = asdict(
            replace(o, batch_size=0, tokens_per_pass=0, threads=0, cache_seconds=0, device=None, int8_backend="")
        )
        tuning["device_type"] = self.device.type
        tuning["int8_backends"] = self.int8_backends
        digest = hashlib.sha256(json.dumps(tuning, sort_keys=True).encode()).hexdigest()[:10]
        nli_backend = self.int8_backends.get("category")
        quantized = f"{o.quantize}-{nli_backend}" if nli_backend else (o.quantize or "fp")
        shortlist = f"+emb({self.shortlist.version})" if self._shortlisting() else ""
        return (
            f"{NAME}:f{FORMAT_VERSION}:s={o.sentiment_model}:l={o.language_model}:c={o.category_model}"
            f":q={quantized}:t={o.max_tokens}:ct={o.category_max_tokens}:k={o.top_k}{shortlist}:{digest}"
        )

    def _shortlisting(self) -> bool:
        k = self.options.top_k
        return self.shortlist is not None and 0 < k < len(self.options.categories)

    @property
    def version(self) -> str:
        return self._version

    @property
    def forward_passes(self) -> int:
        return sum(m.forward_passes for m in (self.sentiment_model, self.language_model, self.category_model))

    # --- analysis -------------------------------------------------------------------
    def analyse(self, posts: list[PostInput]) -> list[PostResult]:
        fingerprints = [
            result_fingerprint(caption=p.caption or "", hashtags=tuple(p.hashtags), engine_version=self._version)
            for p in posts
        ]
        use_cache = self.options.cache_seconds > 0  # 0 disables the cache (benchmarks)
        found = cached_results(list(dict.fromkeys(fingerprints))) if use_cache else {}
        work: dict[str, _Work] = {}
        for post, fp in zip(posts, fingerprints, strict=True):
            if fp not in found and fp not in work:
                work[fp] = _Work(post=post, fingerprint=fp)
        if work:
            computed = self._compute(list(work.values()))
            if use_cache:
                store_results(computed, timeout=self.options.cache_seconds)
            found.update(computed)
        return [PostResult(key=post.key, **found[fp]) for post, fp in zip(posts, fingerprints, strict=True)]

    def _compute(self, items: list[_Work]) -> dict[str, dict[str, Any]]:
        o = self.options
        for item in items:
            item.evidence = {name: float(v) for name, v in self.evidence(item.post, o.categories).items() if v > 0}
        texts = [item for item in items if (item.post.caption or "").strip()]
        # At most AI_BATCH_SIZE rows and tokens_per_pass padded tokens per forward pass:
        # long captions make fewer rows per pass, not more memory.
        budget = self.tokens_per_pass
        rows = max(o.batch_size, 1)
        if texts:
            lang = self.language_model
            probs = hf_models.softmax(
                hf_models.logits(lang, hf_models.encode_texts(lang, [i.post.caption for i in texts]),
                                 token_budget=budget, max_rows=rows)
            )  # fmt: skip
            for item, p in zip(texts, probs, strict=True):
                item.language = p
            supported = [i for i in texts if self._sentiment_supported(self._language(i)[0])]
            sent = self.sentiment_model
            probs = hf_models.softmax(
                hf_models.logits(sent, hf_models.encode_texts(sent, [i.post.caption for i in supported]),
                                 token_budget=budget, max_rows=rows)
            )  # fmt: skip
            for item, p in zip(supported, probs, strict=True):
                item.sentiment = p
            self._zero_shot(texts, token_budget=budget, max_rows=rows)
        return {item.fingerprint: self._result(item) for item in items}

    def _sentiment_supported(self, language: str) -> bool:
        return not self.options.sentiment_languages or language in self.options.sentiment_languages

    def _candidates(self, item: _Work) -> list[str]:
        categories = list(self.options.categories)
        k = self.options.top_k
        if k <= 0 or k >= len(categories) or (not item.evidence and item.similarity is None):
            return categories
        similarity = item.similarity if item.similarity is not None else np.zeros(len(categories))
        ranked = sorted(
            range(len(categories)), key=lambda i: (-item.evidence.get(categories[i], 0.0), -similarity[i], i)
        )
        chosen = set(ranked[:k])
        return [c for i, c in enumerate(categories) if i in chosen]

    def _zero_shot(self, items: list[_Work], *, token_budget: int, max_rows: int) -> None:
        premises: list[str] = []
        hypotheses: list[str] = []
        owners: list[int] = []
        template = self.options.hypothesis_template
        if self._shortlisting():
            assert self.shortlist is not None
            try:
                similarities = self.shortlist.similarities([item.post.caption for item in items])
            except Exception:  # slower, not wrong: posts without evidence keep every category
                logger.exception("the embedding shortlist failed: zero-shot over every category of these posts")
                similarities = [None] * len(items)
            for item, similarity in zip(items, similarities, strict=True):
                item.similarity = similarity
        for index, item in enumerate(items):
            item.candidates = self._candidates(item)
            for name in item.candidates:
                premises.append(item.post.caption)
                hypotheses.append(template.format(name))
                owners.append(index)
        nli = self.category_model
        rows = hf_models.encode_pairs(nli, premises, hypotheses, premise_tokens=self.options.category_max_tokens)
        values = hf_models.logits(nli, rows, token_budget=token_budget, max_rows=max_rows)
        start = 0
        for item in items:
            block = values[start : start + len(item.candidates)]
            start += len(item.candidates)
            if len(item.candidates) == 1:
                # One candidate: entailment against contradiction, as the pipeline does.
                pair = block[:, [self.contradiction_id, self.entailment_id]]
                scores = hf_models.softmax(pair)[:, 1]
            else:
                scores = hf_models.softmax(block[:, self.entailment_id][None, :])[0]
            item.zero_shot = {name: float(s) for name, s in zip(item.candidates, scores, strict=True)}

    def _language(self, item: _Work) -> tuple[str, float]:
        assert item.language is not None
        index = int(np.argmax(item.language))
        label = self.language_model.id2label[index].lower()
        return (label if label in LANGUAGES else OTHER_LANGUAGE), float(item.language[index])

    def _result(self, item: _Work) -> dict[str, Any]:
        o = self.options
        raw: dict[str, Any] = {
            "engine": NAME,
            "format_version": FORMAT_VERSION,
            "models": {"sentiment": o.sentiment_model, "language": o.language_model, "category": o.category_model},
            "quantize": o.quantize or None,
            "int8_backends": self.int8_backends or None,
            "max_tokens": o.max_tokens,
            "category_max_tokens": o.category_max_tokens,
            "category_evidence": item.evidence,
        }
        if item.language is None:  # empty caption: nothing for the models to read
            raw["empty_caption"] = True
            total = sum(item.evidence.values())
            if total > 0:
                evidence = {c: item.evidence.get(c, 0.0) / total for c in o.categories}
                category = _argmax(evidence, o.categories)
                category_confidence = evidence[category]
                raw["category_source"] = "evidence"
            else:
                category = o.default_category if o.default_category in o.categories else o.categories[0]
                category_confidence = 0.0
                raw["category_source"] = "default"
            return self._pack(("neutral", 0.0, 0.0), (OTHER_LANGUAGE, 0.0), (category, category_confidence), raw)

        language, language_confidence = self._language(item)
        top = np.argsort(-item.language)[:3]
        raw["language_top3"] = [[self.language_model.id2label[int(i)], float(item.language[i])] for i in top]
        if item.sentiment is None:
            raw["sentiment_supported"] = False  # the sentiment model does not cover this language
            sentiment = ("neutral", 0.0, 0.0)
        else:
            scores = dict(zip(self.sentiment_labels, (float(v) for v in item.sentiment), strict=True))
            label = self.sentiment_labels[int(np.argmax(item.sentiment))]
            raw["sentiment_supported"] = True
            raw["sentiment_scores"] = scores
            sentiment = (label, scores.get("positive", 0.0) - scores.get("negative", 0.0), scores[label])
        final = blend(item.zero_shot, item.evidence, o.evidence_weight)
        category = _argmax(final, item.candidates)
        raw["zero_shot"] = item.zero_shot
        raw["zero_shot_label"] = _argmax(item.zero_shot, item.candidates)
        raw["category_candidates"] = len(item.candidates)
        if item.similarity is not None:
            raw["category_shortlist"] = "evidence+embeddings"
        raw["category_source"] = "zero_shot+evidence" if final != item.zero_shot else "zero_shot"
        return self._pack(sentiment, (language, language_confidence), (category, final[category]), raw)

    def _pack(self, sentiment: tuple, language: tuple, category: tuple, raw: dict[str, Any]) -> dict[str, Any]:
        return {
            "sentiment": sentiment[0],
            "sentiment_score": float(sentiment[1]),
            "sentiment_confidence": float(sentiment[2]),
            "language": language[0],
            "language_confidence": float(language[1]),
            "category": category[0],
            "category_confidence": float(category[1]),
            "engine": NAME,
            "engine_version": self._version,
            "raw": raw,
        }
