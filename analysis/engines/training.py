"""Training of the embeddings engine's heads (``manage.py ai_train_heads``), from train/ only.

Reproducible: every split and fit is seeded, the data files are listed with their sha256 in
the output's ``meta``, and nothing under ``data/eval/`` is ever read (``_refuse_eval``).

- **Category prototypes** (``heads.CATEGORY_DESCRIPTIONS`` + TweetTopic Spanish
  ``topicxl_es_train.jsonl`` and ``topicxl_es_validation.jsonl`` + (v3) English tweets
  labelled by the keyword tables): the only topic-labelled training tweets are 200 Spanish
  ones, which an English-only embedding model places poorly, so v3 adds an English pool:
  the XLM-T English training tweets (``sentiment/xlmt_english_train_text.txt``, their
  sentiment labels unused) that the keyword/hashtag evidence assigns to one category
  (best score >= ``POOL_MIN_EVIDENCE`` and no tie), a weak label. Each prototype is the
  normalised sum of the unit means of its descriptions, its Spanish tweets and
  ``pool_weight`` x its pool tweets. ``pool_weight`` is chosen by 5-fold cross-validation
  over the pool (prototypes rebuilt without the held-out fold; macro-F1 of the nearest
  prototype, embedding alone, against the held-out weak labels): the question it answers,
  how well the prototypes place English tweets, is one the Spanish tweets cannot answer.
  Then the temperature T, the evidence weight w and the default threshold t are chosen by
  5-fold cross-validation over the Spanish tweets (prototypes rebuilt without the held-out
  fold), maximising macro-F1 with the evaluation's rule (a prediction is right when it is
  one of the tweet's mapped categories); the final prototypes use all of them. The threshold: when the best combined
  probability is below t, the post gets the general category (``DEFAULT_CATEGORY``,
  Lifestyle), as the rule engine does without evidence; t = 0 never defaults. (Heads v1 had
  no threshold: a weak similarity still named a specific category, and categories without
  training tweets, whose prototypes are their descriptions alone, won such posts.)
- **Sentiment head** (XLM-T ``xlmt_<language>_train_*``, 8 languages): 20% of each
  language is held out (seeded, stratified); the regularisation C is chosen on it, then the
  head is refitted on everything. A language keeps the head only where, on its held-out
  part, the head's macro-recall beats the lexicon's (``sentiment_languages``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from analysis.categories import DEFAULT_CATEGORY, category_evidence
from analysis.engines.heads import (
    CATEGORY_DESCRIPTIONS,
    HEADS_VERSION,
    SENTIMENT_CLASSES,
    Heads,
    heads_digest,
    topic_examples,
)
from analysis.engines.rules import _sentiment_supported
from analysis.engines.rules.language import identify_language
from analysis.engines.rules.sentiment import score_sentiment
from analysis.vectors import as_unit_vector

logger = logging.getLogger(__name__)

SEED = 20261203
PROTOTYPE_EXAMPLE_WEIGHT = 1.0
POOL_FILES = ("xlmt_english_train_text.txt",)  # the embedding model reads English
POOL_MIN_EVIDENCE = 1.0
POOL_WEIGHTS = (0.5, 1.0, 2.0, 4.0, 8.0)
# v4: down to 0.005, because multilingual-e5's cosines are compressed (most between 0.75 and 0.9):
# at the old floor, 0.02, its cross-validation still improved towards the edge of the grid.
TEMPERATURES = (0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.12)
EVIDENCE_WEIGHTS = (0.0, 0.15, 0.3, 0.45, 0.6)
DEFAULT_THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
SENTIMENT_C = (0.1, 0.3, 1.0, 3.0)
SENTIMENT_LANGUAGE_CODES = {
    "arabic": "ar", "english": "en", "french": "fr", "german": "de",
    "hindi": "hi", "italian": "it", "portuguese": "pt", "spanish": "es",
}  # fmt: skip


def _refuse_eval(path: Path) -> None:
    if "eval" in path.resolve().parts:
        raise ValueError(f"{path} is evaluation data: the heads are trained on data/train/ only")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def combine_category(probabilities: np.ndarray, evidence: Sequence[float], weight: float) -> np.ndarray:
    """(1 - w) x embedding probabilities + w x evidence / sum(evidence); evidence alone is ignored when 0."""
    evidence = np.asarray(evidence, dtype=np.float64)
    total = float(evidence.sum())
    if weight <= 0 or total <= 0:
        return probabilities
    return (1.0 - weight) * probabilities + weight * evidence / total


def choose_category(final: np.ndarray, categories: Sequence[str], threshold: float) -> int:
    """The index of the chosen category: the best, or ``DEFAULT_CATEGORY``'s when the best is below ``threshold``."""
    best = int(np.argmax(final))
    if threshold > 0 and float(final[best]) < threshold and DEFAULT_CATEGORY in categories:
        return list(categories).index(DEFAULT_CATEGORY)
    return best


def _macro_f1_allowed(allowed: Sequence[tuple[str, ...]], predicted: Sequence[str]) -> float:
    """Macro-F1 where a prediction is right when it is one of the allowed categories."""
    from sklearn.metrics import f1_score

    gold = [p if p in cats else cats[0] for cats, p in zip(allowed, predicted, strict=True)]
    return float(f1_score(gold, predicted, average="macro", labels=sorted(set(gold) | set(predicted)), zero_division=0))


def _macro_recall(gold: Sequence[int], predicted: Sequence[int]) -> float:
    recalls = []
    for label in range(len(SENTIMENT_CLASSES)):
        total = sum(1 for g in gold if g == label)
        if total:
            recalls.append(sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == label) / total)
    return sum(recalls) / len(recalls) if recalls else 0.0


def cached_encoder(
    encode: Callable[[list[str]], np.ndarray], folder: Path, model_id: str
) -> Callable[[list[str]], np.ndarray]:
    """``encode`` that keeps its results in ``folder`` as ``.npy`` files keyed by model and texts."""

    def cached(texts: list[str]) -> np.ndarray:
        key = hashlib.sha256("\x1e".join([model_id, *texts]).encode("utf-8", "surrogatepass")).hexdigest()
        path = folder / f"{key}.npy"
        if path.exists():
            return np.load(path, allow_pickle=False)
        vectors = encode(texts)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors, allow_pickle=False)
        return vectors

    return cached


# --- data ---------------------------------------------------------------------------------


def load_topic_examples(folder: Path) -> tuple[list[str], list[tuple[str, ...]], list[Path]]:
    _refuse_eval(folder)
    texts: list[str] = []
    allowed: list[tuple[str, ...]] = []
    files = sorted(folder.glob("*.jsonl"))
    for path in files:
        more_texts, more_allowed = topic_examples(path)
        texts += more_texts
        allowed += more_allowed
    return texts, allowed, files


def load_sentiment_examples(folder: Path) -> tuple[list[str], list[int], list[str], list[Path]]:
    _refuse_eval(folder)
    texts: list[str] = []
    labels: list[int] = []
    languages: list[str] = []
    files: list[Path] = []
    for name, code in sorted(SENTIMENT_LANGUAGE_CODES.items()):
        text_path = folder / f"xlmt_{name}_train_text.txt"
        label_path = folder / f"xlmt_{name}_train_labels.txt"
        if not text_path.exists():
            continue
        rows = text_path.read_text(encoding="utf-8").split("\n")
        values = [int(x) for x in label_path.read_text().split()]
        texts.extend(r.strip() for r in rows[: len(values)])
        labels.extend(values)
        languages.extend([code] * len(values))
        files += [text_path, label_path]
    return texts, labels, languages, files


def load_pool_texts(folder: Path) -> tuple[list[str], list[Path]]:
    """The unlabelled English tweets of the pool (``POOL_FILES`` under ``sentiment/``), non-empty lines."""
    _refuse_eval(folder)
    texts: list[str] = []
    files: list[Path] = []
    for name in POOL_FILES:
        path = folder / name
        if path.exists():
            texts += [line.strip() for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
            files.append(path)
    return texts, files


# --- category -----------------------------------------------------------------------------


def weak_labels(evidence: np.ndarray, min_evidence: float = POOL_MIN_EVIDENCE) -> np.ndarray:
    """Per row of keyword evidence, the index of its one best category, or -1 (too weak, or a tie)."""
    best = evidence.max(axis=1)
    unique = (evidence == best[:, None]).sum(axis=1) == 1
    return np.where((best >= min_evidence) & unique, evidence.argmax(axis=1), -1)


@dataclass(frozen=True)
class Pool:
    """English tweets with weak (keyword) labels: ``labels[i]`` is a category index or -1."""

    vectors: np.ndarray
    labels: np.ndarray
    weight: float = 0.0

    def without(self, rows: np.ndarray) -> Pool:
        labels = self.labels.copy()
        labels[rows] = -1
        return Pool(self.vectors, labels, self.weight)


NO_POOL = Pool(np.zeros((0, 1), dtype=np.float32), np.zeros(0, dtype=int))


def build_prototypes(
    categories: Sequence[str],
    description_vectors: dict[str, np.ndarray],
    example_vectors: np.ndarray,
    example_allowed: Sequence[tuple[str, ...]],
    pool: Pool = NO_POOL,
) -> np.ndarray:
    rows = []
    for index, category in enumerate(categories):
        parts = [as_unit_vector(description_vectors[category].mean(axis=0))]
        members = [i for i, cats in enumerate(example_allowed) if category in cats]
        if members:
            parts.append(PROTOTYPE_EXAMPLE_WEIGHT * as_unit_vector(example_vectors[members].mean(axis=0)))
        pooled = pool.labels == index
        if pool.weight > 0 and pooled.any():
            parts.append(pool.weight * as_unit_vector(pool.vectors[pooled].mean(axis=0)))
        rows.append(as_unit_vector(np.sum(parts, axis=0)))
    return np.stack(rows).astype(np.float32)


def _choose_pool_weight(
    categories: list[str],
    description_vectors: dict[str, np.ndarray],
    vectors: np.ndarray,
    allowed: list[tuple[str, ...]],
    pool: Pool,
) -> tuple[float, float]:
    """(weight, 5-fold macro-F1): how well the nearest prototype recovers held-out weak labels."""
    from sklearn.metrics import f1_score

    labelled = np.flatnonzero(pool.labels >= 0)
    if len(labelled) < 5:
        return 0.0, 0.0
    folds = np.random.default_rng(SEED).permutation(len(labelled)) % 5
    best = (-1.0, 0.0)
    for weight in POOL_WEIGHTS:
        predicted = np.zeros(len(labelled), dtype=int)
        for fold in range(5):
            held = labelled[folds == fold]
            prototypes = build_prototypes(
                categories, description_vectors, vectors, allowed, replace(pool.without(held), weight=weight)
            )
            predicted[folds == fold] = np.argmax(pool.vectors[held] @ prototypes.T, axis=1)
        score = float(f1_score(pool.labels[labelled], predicted, average="macro"))
        if score > best[0] + 1e-9:
            best = (score, weight)
    return best[1], best[0]


def _choose_category_parameters(
    categories: list[str],
    description_vectors: dict[str, np.ndarray],
    vectors: np.ndarray,
    allowed: list[tuple[str, ...]],
    evidence: np.ndarray,
    pool: Pool = NO_POOL,
) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(SEED)
    folds = rng.permutation(len(allowed)) % 5
    from analysis.engines.heads import softmax

    similarities: list[tuple[list[int], np.ndarray]] = []
    for fold in range(5):
        train = [i for i in range(len(allowed)) if folds[i] != fold]
        test = [i for i in range(len(allowed)) if folds[i] == fold]
        prototypes = build_prototypes(
            categories, description_vectors, vectors[train], [allowed[i] for i in train], pool
        )
        similarities.append((test, vectors[test] @ prototypes.T))
    best = (-1.0, TEMPERATURES[0], EVIDENCE_WEIGHTS[0], DEFAULT_THRESHOLDS[0])
    for temperature in TEMPERATURES:
        for weight in EVIDENCE_WEIGHTS:
            for threshold in DEFAULT_THRESHOLDS:
                predicted = [""] * len(allowed)
                for test, similarity in similarities:
                    probabilities = softmax(similarity / temperature)
                    for row, i in enumerate(test):
                        final = combine_category(probabilities[row], evidence[i], weight)
                        predicted[i] = categories[choose_category(final, categories, threshold)]
                score = _macro_f1_allowed(allowed, predicted)
                if score > best[0] + 1e-9:
                    best = (score, temperature, weight, threshold)
    return best


def _evidence(texts: Sequence[str], categories: Sequence[str]) -> np.ndarray:
    return np.array([[category_evidence(t, (), categories)[c] for c in categories] for t in texts], dtype=np.float32)


# --- sentiment ----------------------------------------------------------------------------


def lexicon_features(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(compound, supported, lexicon label) per text, exactly as the engines compute them."""
    compounds = np.zeros(len(texts), dtype=np.float32)
    supported = np.zeros(len(texts), dtype=np.float32)
    labels: list[str] = []
    for i, text in enumerate(texts):
        language, _, language_raw = identify_language(text)
        ok = _sentiment_supported(language, language_raw)
        label, compound, _, _ = score_sentiment(text, supported=ok)
        compounds[i], supported[i] = compound, float(ok)
        labels.append(label)
    return compounds, supported, labels


def _fit_logistic(features: np.ndarray, labels: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=SEED)
    model.fit(features, labels)
    return model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32)


def _held_out_split(labels: Sequence[int], languages: Sequence[str]) -> np.ndarray:
    """A boolean mask: 20% of each (language, label) group, seeded."""
    rng = np.random.default_rng(SEED)
    mask = np.zeros(len(labels), dtype=bool)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, key in enumerate(zip(languages, labels, strict=True)):
        groups.setdefault(key, []).append(i)
    for key in sorted(groups):
        members = np.array(groups[key])
        chosen = rng.permutation(len(members))[: max(1, len(members) // 5)]
        mask[members[chosen]] = True
    return mask


# --- the command's entry point ------------------------------------------------------------


def train_heads(
    *,
    encode: Callable[[list[str]], np.ndarray],
    train_dir: Path,
    categories: Sequence[str],
    model_id: str,
    log: Callable[[str], None] = logger.info,
) -> Heads:
    """Fit every head from ``train_dir`` (``topics/`` and ``sentiment/``) with ``encode``."""
    categories = list(categories)
    missing = [c for c in categories if c not in CATEGORY_DESCRIPTIONS]
    if missing:
        raise ValueError(f"no label descriptions for {missing}; add them to CATEGORY_DESCRIPTIONS")

    topic_texts, topic_allowed, topic_files = load_topic_examples(train_dir / "topics")
    log(f"topics: {len(topic_texts)} training tweets with mapped categories")
    description_vectors = {c: encode(list(CATEGORY_DESCRIPTIONS[c])) for c in categories}
    topic_vectors = encode(topic_texts)
    evidence = _evidence(topic_texts, categories)
    pool_texts, pool_files = load_pool_texts(train_dir / "sentiment")
    pool = Pool(encode(pool_texts), weak_labels(_evidence(pool_texts, categories)))
    pool_counts = {c: int((pool.labels == i).sum()) for i, c in enumerate(categories)}
    log(f"pool: {len(pool_texts)} English tweets, {int((pool.labels >= 0).sum())} with a weak label {pool_counts}")
    pool_weight, pool_f1 = _choose_pool_weight(categories, description_vectors, topic_vectors, topic_allowed, pool)
    pool = replace(pool, weight=pool_weight)
    log(f"pool weight {pool_weight}: 5-fold macro-F1 against held-out weak labels {pool_f1:.4f}")
    cv_f1, temperature, weight, threshold = _choose_category_parameters(
        categories, description_vectors, topic_vectors, topic_allowed, evidence, pool
    )
    log(
        f"category: T={temperature}, evidence weight={weight}, default threshold={threshold}, "
        f"5-fold macro-F1 {cv_f1:.4f}"
    )
    prototypes = build_prototypes(categories, description_vectors, topic_vectors, topic_allowed, pool)

    texts, labels, languages, sentiment_files = load_sentiment_examples(train_dir / "sentiment")
    log(f"sentiment: {len(texts)} training tweets; computing lexicon features and embeddings")
    compounds, supported, lexicon_labels = lexicon_features(texts)
    vectors = encode(texts)
    features = np.hstack([vectors, compounds[:, None], supported[:, None]])
    y = np.array(labels)
    held = _held_out_split(labels, languages)
    best_c, best_recall, held_predictions = SENTIMENT_C[0], -1.0, None
    for c in SENTIMENT_C:
        weights, bias = _fit_logistic(features[~held], y[~held], c)
        predicted = np.argmax(features[held] @ weights + bias, axis=1)
        recall = _macro_recall(y[held].tolist(), predicted.tolist())
        log(f"  C={c}: held-out macro-recall {recall:.4f}")
        if recall > best_recall + 1e-9:
            best_c, best_recall, held_predictions = c, recall, predicted
    lexicon_ids = np.array([SENTIMENT_CLASSES.index(label) for label in lexicon_labels])
    held_languages = np.array(languages)[held]
    per_language: dict[str, dict[str, float]] = {}
    chosen_languages = []
    for code in sorted(set(languages)):
        rows = held_languages == code
        head = _macro_recall(y[held][rows].tolist(), held_predictions[rows].tolist())
        lexicon = _macro_recall(y[held][rows].tolist(), lexicon_ids[held][rows].tolist())
        per_language[code] = {"head": round(head, 4), "lexicon": round(lexicon, 4)}
        if head > lexicon:
            chosen_languages.append(code)
    log(f"sentiment: C={best_c}; per language (held out) {per_language}; head used for {chosen_languages}")
    weights, bias = _fit_logistic(features, y, best_c)

    heads = Heads(
        categories=categories,
        prototypes=prototypes,
        category_temperature=temperature,
        sentiment_weights=weights,
        sentiment_bias=bias,
        sentiment_languages=frozenset(chosen_languages),
        meta={
            "version": HEADS_VERSION,
            "seed": SEED,
            "model": model_id,
            "category_evidence_weight": weight,
            "category_default_threshold": threshold,
            "category_default": DEFAULT_CATEGORY,
            "category_cv_macro_f1": round(cv_f1, 4),
            "prototype_example_weight": PROTOTYPE_EXAMPLE_WEIGHT,
            "pool_weight": pool_weight,
            "pool_min_evidence": POOL_MIN_EVIDENCE,
            "pool_cv_macro_f1": round(pool_f1, 4),
            "pool_counts": pool_counts,
            "sentiment_c": best_c,
            "sentiment_held_out_macro_recall": round(best_recall, 4),
            "sentiment_held_out_by_language": per_language,
            "data": {str(p.relative_to(train_dir)): _sha256(p) for p in [*topic_files, *pool_files, *sentiment_files]},
        },
    )
    heads.digest = heads_digest(heads)
    return heads
