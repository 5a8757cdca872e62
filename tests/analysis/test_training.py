"""Training of the embeddings engine's heads (``analysis.engines.training``) on a tiny train folder.

The encoder is a deterministic bag of hashed words (no model needed): texts that share words
are close, so the category prototypes and the weak-label pool behave as with real embeddings.
"""

import hashlib
import json
import re

import numpy as np
import pytest

from analysis.engines.training import (
    NO_POOL,
    POOL_WEIGHTS,
    Pool,
    _choose_pool_weight,
    build_prototypes,
    train_heads,
    weak_labels,
)

DIM = 64
CATEGORIES = ["Food", "Sports", "Lifestyle"]


def bag_encoder(texts: list[str]) -> np.ndarray:
    rows = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            rows[i, int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIM] += 1.0
        rows[i] /= np.linalg.norm(rows[i]) or 1.0
    return rows


def test_weak_labels_keep_one_clear_winner_only():
    evidence = np.array(
        [
            [2.0, 0.0, 0.0],  # clear
            [1.0, 1.0, 0.0],  # tie
            [0.5, 0.0, 0.0],  # too weak
            [0.0, 0.0, 0.0],  # nothing
            [1.0, 3.0, 0.0],
        ]
    )
    assert weak_labels(evidence).tolist() == [0, -1, -1, -1, 1]
    assert weak_labels(evidence, min_evidence=0.5).tolist() == [0, -1, 0, -1, 1]


def test_pool_tweets_pull_their_prototype_by_their_weight():
    descriptions = {c: bag_encoder([f"{c} things"]) for c in CATEGORIES}
    pool_vectors = bag_encoder(["pizza pasta dinner", "pizza lunch", "goal match"])
    labels = np.array([0, 0, -1])
    alone = build_prototypes(CATEGORIES, descriptions, np.zeros((0, DIM)), [])
    ignored = build_prototypes(CATEGORIES, descriptions, np.zeros((0, DIM)), [], Pool(pool_vectors, labels, 0.0))
    pulled = build_prototypes(CATEGORIES, descriptions, np.zeros((0, DIM)), [], Pool(pool_vectors, labels, 2.0))
    assert np.allclose(alone, ignored)
    pizza = bag_encoder(["pizza"])[0]
    assert pulled[0] @ pizza > alone[0] @ pizza
    assert np.allclose(pulled[1:], alone[1:])  # unlabelled and other categories' rows unchanged
    assert np.allclose(np.linalg.norm(pulled, axis=1), 1.0)
    assert NO_POOL.labels.size == 0


def test_pool_weight_is_chosen_from_the_grid_by_held_out_weak_labels():
    descriptions = {c: bag_encoder([f"{c} words"]) for c in CATEGORIES}
    texts = [f"pizza pasta dish {i}" for i in range(10)] + [f"goal match team {i}" for i in range(10)]
    pool = Pool(bag_encoder(texts), np.array([0] * 10 + [1] * 10))
    weight, score = _choose_pool_weight(CATEGORIES, descriptions, np.zeros((0, DIM)), [], pool)
    assert weight in POOL_WEIGHTS
    assert score == pytest.approx(1.0)  # the held-out tweets share their words with their fold's pool


@pytest.fixture
def train_dir(tmp_path):
    folder = tmp_path / "train"
    (folder / "topics").mkdir(parents=True)
    (folder / "sentiment").mkdir()
    rows = [{"text": f"comida deliciosa pizza {i}", "topics": ["Food & Dining"]} for i in range(10)] + [
        {"text": f"partido de futbol gol {i}", "topics": ["Sports"]} for i in range(10)
    ]
    (folder / "topics" / "topicxl_es_train.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    english = [
        *(f"I hate this awful day {i}" for i in range(12)),
        *(f"The match starts at {i}" for i in range(12)),
        *(f"I love this delicious pizza {i}" for i in range(12)),
        *(f"great football game, the team won {i}" for i in range(6)),
        *(f"dinner at a new restaurant {i}" for i in range(6)),
    ]
    labels = [0] * 12 + [1] * 12 + [2] * 12 + [2] * 6 + [1] * 6
    (folder / "sentiment" / "xlmt_english_train_text.txt").write_text("\n".join(english) + "\n")
    (folder / "sentiment" / "xlmt_english_train_labels.txt").write_text("\n".join(map(str, labels)) + "\n")
    return folder


def test_training_is_reproducible_and_records_the_pool(train_dir):
    first = train_heads(encode=bag_encoder, train_dir=train_dir, categories=CATEGORIES, model_id="bag", log=print)
    second = train_heads(encode=bag_encoder, train_dir=train_dir, categories=CATEGORIES, model_id="bag", log=print)
    assert first.digest == second.digest and first.version.startswith("heads-v4-")
    meta = first.meta
    assert meta["pool_weight"] in POOL_WEIGHTS
    assert meta["pool_counts"]["Sports"] >= 6 and meta["pool_counts"]["Food"] >= 6
    assert "sentiment/xlmt_english_train_text.txt" in meta["data"]
    # A food tweet lands nearer the food prototype than the sports one.
    food = bag_encoder(["a delicious pizza dinner"])[0]
    assert np.argmax(first.prototypes @ food) == CATEGORIES.index("Food")


def test_training_refuses_evaluation_data(train_dir, tmp_path):
    evaluation = tmp_path / "eval"
    train_dir.rename(evaluation)
    with pytest.raises(ValueError, match="evaluation data"):
        train_heads(encode=bag_encoder, train_dir=evaluation, categories=CATEGORIES, model_id="bag", log=print)
