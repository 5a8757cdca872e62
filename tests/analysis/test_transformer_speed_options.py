"""The transformer engine's speed settings beyond exact mode: ``AI_CATEGORY_MAX_TOKENS``.

Same tiny locally built models as ``test_transformer_engine`` (random weights, tokenizers
trained here), loaded by path through the real loading code, fully offline.
"""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from analysis.engines.base import PostInput
from tests.analysis.tiny_models import apify_captions

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from analysis.engines import hf_models  # noqa: E402
from tests.analysis.test_transformer_engine import CATEGORIES, make_engine, tiny_models  # noqa: E402, F401

HYPOTHESES = ["This example is about Art.", "This example is about Home & Decor."]


def test_premise_budget_cuts_only_the_caption(tiny_models):  # noqa: F811
    engine = make_engine(tiny_models, category_max_tokens=12)
    nli = engine.category_model
    long_caption, short_caption = apify_captions()[-1], "Leg day"
    premises = [long_caption, long_caption, short_caption]
    hypotheses = [HYPOTHESES[0], HYPOTHESES[1], HYPOTHESES[1]]
    budgeted = hf_models.encode_pairs(nli, premises, hypotheses, premise_tokens=12)
    whole = hf_models.encode_pairs(nli, premises, hypotheses)
    specials = nli.tokenizer.num_special_tokens_to_add(pair=True)
    for row, hypothesis in zip(budgeted[:2], HYPOTHESES, strict=True):
        hypothesis_ids = nli.tokenizer(hypothesis, add_special_tokens=False)["input_ids"]
        assert len(row["input_ids"]) == 12 + len(hypothesis_ids) + specials
        # The hypothesis is whole, the caption is its first 12 tokens.
        assert row["input_ids"][-len(hypothesis_ids) - 1 : -1] == hypothesis_ids
        assert row["input_ids"][:13] == whole[0]["input_ids"][:13]
    assert len(whole[0]["input_ids"]) == nli.max_length > len(budgeted[0]["input_ids"])
    assert budgeted[2] == whole[2]  # a caption within the budget is untouched


def test_premise_budget_reads_less_and_changes_only_long_captions(tiny_models):  # noqa: F811
    exact = make_engine(tiny_models)
    budget = make_engine(tiny_models, category_max_tokens=16)
    assert budget.version != exact.version and ":ct=16:" in budget.version
    posts = [PostInput(key="long", caption=apify_captions()[-1]), PostInput(key="short", caption="Pasta night")]
    exact_results = exact.analyse(posts)
    tokens = budget.category_model.padded_tokens
    budget_results = budget.analyse(posts)
    assert budget.category_model.padded_tokens - tokens < exact.category_model.padded_tokens / 2
    # Short caption: the same pairs, so the same scores; sentiment and language never change.
    assert budget_results[1].raw["zero_shot"] == pytest.approx(exact_results[1].raw["zero_shot"], abs=1e-5)
    assert budget_results[1].raw["category_max_tokens"] == 16
    for a, b in zip(budget_results, exact_results, strict=True):
        assert (a.sentiment, a.language) == (b.sentiment, b.language)
        assert a.sentiment_confidence == pytest.approx(b.sentiment_confidence, abs=1e-5)
        assert set(a.raw["zero_shot"]) == set(CATEGORIES)
    assert budget_results[0].raw["zero_shot"] != pytest.approx(exact_results[0].raw["zero_shot"], abs=1e-6)


def test_forward_passes_are_counted_with_their_padded_tokens(tiny_models):  # noqa: F811
    engine = make_engine(tiny_models)
    nli = engine.category_model
    rows = hf_models.encode_pairs(nli, ["Sunset run", "A long day at the office again"], HYPOTHESES)
    passes, tokens, seconds = nli.forward_passes, nli.padded_tokens, nli.forward_seconds
    hf_models.logits(nli, rows, token_budget=1024, max_rows=32)
    assert nli.forward_passes == passes + 1
    assert nli.padded_tokens - tokens == 2 * max(len(row["input_ids"]) for row in rows)
    assert nli.forward_seconds > seconds
