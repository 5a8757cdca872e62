"""The quality benchmark's code and the rule-based engine's figures on the real eval data."""

import json

import pytest

from bench import ai_quality
from bench.ai_quality import (
    DEFAULT_DATA,
    TOPIC_TO_CATEGORIES,
    accuracy,
    category_gold,
    macro_f1,
    macro_recall,
)


def test_metrics_on_hand_computed_values():
    gold = ["negative", "neutral", "neutral", "positive"]
    predicted = ["negative", "neutral", "positive", "neutral"]
    assert macro_recall(gold, predicted, ("negative", "neutral", "positive")) == pytest.approx((1 + 0.5 + 0) / 3)
    assert accuracy(gold, predicted) == 0.5
    # F1: negative 1, neutral 2*1/(2+1+1)=0.5, positive 0.
    assert macro_f1(gold, predicted) == pytest.approx(0.5)
    assert category_gold([("Fashion", "Beauty"), ("Food",)], ["Beauty", "Travel"]) == ["Beauty", "Food"]


def test_topic_table_maps_only_to_product_categories(settings):
    mapped = {c for cats in TOPIC_TO_CATEGORIES.values() for c in cats}
    assert mapped <= set(settings.AI_CATEGORIES)


@pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="shared eval data not present")
def test_rules_engine_meets_the_quality_bar(capsys):
    assert ai_quality.main(["--engine", "rules", "--data", str(DEFAULT_DATA)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(lines[-1])
    assert set(figures) == {"sentiment_macro_recall", "language_accuracy", "category_macro_f1"}
    texts, gold = ai_quality.load_sentiment(DEFAULT_DATA)
    vader = macro_recall(gold, ai_quality.vader_baseline(texts), ("negative", "neutral", "positive"))
    assert len(texts) == 2000
    assert figures["sentiment_macro_recall"] > vader
    assert figures["language_accuracy"] >= 0.99
    assert figures["category_macro_f1"] > 0.3


def _subset(data, tmp_path, lines=50):
    """A --data folder with the first ``lines`` lines of every eval file."""
    for path in data.rglob("*"):
        if path.is_file() and path.suffix in {".txt", ".jsonl"}:
            target = tmp_path / path.relative_to(data)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:lines]) + "\n", encoding="utf-8")
    return tmp_path


@pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="shared eval data not present")
def test_transformers_option_goes_through_the_registry(tmp_path, monkeypatch, capsys):
    from analysis.engines import registry
    from analysis.engines.rules import RulesEngine

    asked = []

    def fake_get_engine(name=None):
        asked.append(name)
        return RulesEngine(["Food", "Sports", "Music"])

    monkeypatch.setattr(registry, "get_engine", fake_get_engine)
    data = _subset(DEFAULT_DATA, tmp_path)
    assert ai_quality.main(["--engine", "transformers", "--data", str(data)]) == 0
    assert asked == ["transformers"]
    out = capsys.readouterr().out
    assert "sentiment: 50 tweets" in out
    assert "language: 1000 sentences" in out
    figures = json.loads(out.strip().splitlines()[-1])
    assert 0 <= figures["category_macro_f1"] <= 1


def test_unavailable_engine_exits_cleanly(monkeypatch, capsys):
    from analysis.engines import registry

    def broken(name=None):
        raise registry.EngineUnavailable("no model files")

    monkeypatch.setattr(registry, "get_engine", broken)
    assert ai_quality.main(["--engine", "transformers"]) == 2
    assert "no model files" in capsys.readouterr().err
