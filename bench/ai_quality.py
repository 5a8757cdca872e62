"""Quality of an AI engine on labelled public data: sentiment, language, category.

Usage: ``.venv/bin/python bench/ai_quality.py [--engine rules|embeddings|transformers] [--data DIR]``
or ``--compare rules,embeddings``: both engines on the same data in one run, side by side,
with the differences (issue 14's targets: category macro-F1 at least 0.15 above the rule
engine's, sentiment macro-recall not below it, language accuracy unchanged); the JSON line
is then ``{"rules": {...}, "embeddings": {...}, "delta": {...}}``.

``DIR`` (default ``../shared/data/eval`` beside the repository) holds:

- ``sentiment/tweeteval_val_text.txt`` and ``tweeteval_val_labels.txt``: one tweet and one
  label per line (0 negative, 1 neutral, 2 positive). Metric: **macro-recall** (the mean
  of the three per-class recalls, TweetEval's official sentiment metric). Plain VADER
  (compound >= 0.05 positive, <= -0.05 negative) is printed beside it as the baseline.
- ``language/<code>.txt``: one sentence per line in that language. Metric: **accuracy**
  over all sentences (a prediction of "other" counts as wrong).
- ``topics/topicxl_en_validation.jsonl`` and ``topicxl_en_train.jsonl``: tweets with a
  ``topics`` list of TweetTopic labels. Metric: **category macro-F1**, as follows.
  ``TOPIC_TO_CATEGORIES`` maps each topic to the product categories it covers (some to
  none). A tweet is evaluated only if its topics map to at least one category; its
  allowed set is the union over its topics. The engine's category counts as correct when
  it is in the allowed set; the tweet's gold label is then the predicted category, and
  otherwise the first category of the allowed set (table order). Macro-F1 is the
  unweighted mean of per-category F1 over every category that is a gold label or a
  prediction (as ``sklearn.metrics.f1_score(average="macro")`` does).

Nothing here trains or tunes anything: the engines are used as they are (the embeddings
engine's heads were trained on ``data/train/`` by ``manage.py ai_train_heads``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval"

SENTIMENT_LABELS_BY_ID = {0: "negative", 1: "neutral", 2: "positive"}

# TweetTopic (topicxl) label -> our categories (topics with no counterpart map to ()): the
# table lives with the embeddings engine's heads, which map their training tweets with it.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from analysis.engines.heads import TOPIC_TO_CATEGORIES, topic_examples  # noqa: E402

__all__ = ["TOPIC_TO_CATEGORIES"]


def _ensure_django() -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def make_engine(name: str, categories: Sequence[str] | None = None) -> Any:
    if name == "rules":
        from analysis.engines.rules import RulesEngine

        return RulesEngine(categories)
    if name == "embeddings":
        from analysis.engines.embedding_engine import EmbeddingsEngine

        return EmbeddingsEngine.from_settings()
    # Imported here: the registry (and through it torch) is only needed for this engine.
    from analysis.engines.registry import get_engine

    return get_engine(name)


# --- data ---------------------------------------------------------------------------------


def load_sentiment(data: Path) -> tuple[list[str], list[str]]:
    folder = data / "sentiment"
    texts = (folder / "tweeteval_val_text.txt").read_text(encoding="utf-8").split("\n")
    labels = [SENTIMENT_LABELS_BY_ID[int(x)] for x in (folder / "tweeteval_val_labels.txt").read_text().split()]
    return [t.strip() for t in texts[: len(labels)]], labels


def load_languages(data: Path) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for path in sorted((data / "language").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(line.strip())
                labels.append(path.stem)
    return texts, labels


def load_topics(data: Path) -> tuple[list[str], list[tuple[str, ...]]]:
    """Tweets whose topics map to at least one category, with their allowed sets."""
    texts: list[str] = []
    allowed: list[tuple[str, ...]] = []
    for name in ("topicxl_en_validation.jsonl", "topicxl_en_train.jsonl"):
        path = data / "topics" / name
        if path.exists():
            more_texts, more_allowed = topic_examples(path)
            texts += more_texts
            allowed += more_allowed
    return texts, allowed


# --- metrics ------------------------------------------------------------------------------


def macro_recall(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    recalls = []
    for label in labels:
        total = sum(1 for g in gold if g == label)
        if total:
            recalls.append(sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label) / total)
    return sum(recalls) / len(recalls) if recalls else 0.0


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold) if gold else 0.0


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    labels = sorted(set(gold) | set(predicted))
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def category_gold(allowed: Sequence[tuple[str, ...]], predicted: Sequence[str]) -> list[str]:
    return [p if p in cats else cats[0] for cats, p in zip(allowed, predicted, strict=True)]


def vader_baseline(texts: Sequence[str]) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        compound = analyzer.polarity_scores(text)["compound"]
        out.append("positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral")
    return out


# --- running ------------------------------------------------------------------------------


def run_engine(engine: Any, texts: Sequence[str], batch_size: int = 256) -> list[Any]:
    from analysis.engines.base import PostInput

    results: list[Any] = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        results.extend(engine.analyse([PostInput(key=str(start + i), caption=t) for i, t in enumerate(chunk)]))
    return results


def evaluate(engine: Any, data: Path, log: Callable[[str], None] = print) -> dict[str, float]:
    """Run ``engine`` on the three tasks of ``data`` and return the headline metrics."""
    metrics: dict[str, float] = {}

    texts, gold = load_sentiment(data)
    started = time.perf_counter()
    predicted = [r.sentiment for r in run_engine(engine, texts)]
    elapsed = time.perf_counter() - started
    metrics["sentiment_macro_recall"] = round(macro_recall(gold, predicted, ("negative", "neutral", "positive")), 4)
    baseline = round(macro_recall(gold, vader_baseline(texts), ("negative", "neutral", "positive")), 4)
    log(
        f"sentiment: {len(texts)} tweets, macro-recall {metrics['sentiment_macro_recall']:.4f} "
        f"(plain VADER {baseline:.4f}) in {elapsed:.1f} s"
    )
    for label in ("negative", "neutral", "positive"):
        log(f"  recall {label}: {macro_recall(gold, predicted, (label,)):.4f}")

    texts, gold = load_languages(data)
    started = time.perf_counter()
    predicted = [r.language for r in run_engine(engine, texts)]
    elapsed = time.perf_counter() - started
    metrics["language_accuracy"] = round(accuracy(gold, predicted), 4)
    log(f"language: {len(texts)} sentences, accuracy {metrics['language_accuracy']:.4f} in {elapsed:.1f} s")
    for code in sorted(set(gold)):
        pairs = [(g, p) for g, p in zip(gold, predicted, strict=True) if g == code]
        acc = accuracy([g for g, _ in pairs], [p for _, p in pairs])
        if acc < 1:
            log(f"  {code}: {acc:.4f}")

    texts, allowed = load_topics(data)
    predicted = [r.category for r in run_engine(engine, texts)]
    gold = category_gold(allowed, predicted)
    metrics["category_macro_f1"] = round(macro_f1(gold, predicted), 4)
    log(
        f"category: {len(texts)} tweets with mapped topics, macro-F1 {metrics['category_macro_f1']:.4f}, "
        f"accuracy {accuracy(gold, predicted):.4f}"
    )
    metrics["vader_sentiment_macro_recall"] = baseline
    return metrics


HEADLINE = ("sentiment_macro_recall", "language_accuracy", "category_macro_f1")


def compare(names: Sequence[str], data: Path) -> dict[str, Any]:
    """Every engine of ``names`` on ``data``, side by side; deltas against the first."""
    from django.conf import settings

    results: dict[str, Any] = {}
    for name in names:
        engine = make_engine(name, settings.AI_CATEGORIES)
        print(f"\n--- engine: {engine.name} {engine.version}")
        results[name] = {key: value for key, value in evaluate(engine, data).items() if key in HEADLINE}
    first = names[0]
    print("\n" + f"{'metric':<24}" + "".join(f"{n:>14}" for n in names) + "".join(f"{'d ' + n:>16}" for n in names[1:]))
    for key in HEADLINE:
        row = f"{key:<24}" + "".join(f"{results[n][key]:>14.4f}" for n in names)
        row += "".join(f"{results[n][key] - results[first][key]:>+16.4f}" for n in names[1:])
        print(row)
    results["delta"] = {
        n: {key: round(results[n][key] - results[first][key], 4) for key in HEADLINE} for n in names[1:]
    }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("rules", "embeddings", "transformers"), default="rules")
    parser.add_argument("--compare", default="", help="comma-separated engines to run side by side")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    _ensure_django()
    from django.conf import settings

    if args.compare:
        names = [n.strip() for n in args.compare.split(",") if n.strip()]
        try:
            results = compare(names, args.data)
        except (ImportError, RuntimeError) as exc:
            print(f"an engine is unavailable: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(results))
        return 0

    try:
        engine = make_engine(args.engine, settings.AI_CATEGORIES)
    except (ImportError, RuntimeError) as exc:  # registry missing, or EngineUnavailable (a RuntimeError)
        print(f"engine {args.engine!r} is unavailable: {exc}", file=sys.stderr)
        return 2
    print(f"engine: {engine.name} {engine.version}; data: {args.data}")
    metrics = evaluate(engine, args.data)
    print(
        json.dumps({key: metrics[key] for key in ("sentiment_macro_recall", "language_accuracy", "category_macro_f1")})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
