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
