"""The transformer engine against transformers' own pipelines, with tiny locally built models.

The models (RoBERTa sentiment, XLM-R language, BART NLI; random weights, tokenizers trained
here) are saved in a temporary directory and loaded by path through the engine's real
loading code, fully offline.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from django.conf import settings

from analysis.engines.base import FORMAT_VERSION, LANGUAGES, SENTIMENT_LABELS, PostInput
from tests.analysis.tiny_models import apify_captions, build_all, real_texts

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from analysis.engines import hf_models  # noqa: E402
from analysis.engines.transformer_engine import TransformersEngine, TransformersOptions, blend  # noqa: E402

CATEGORIES = tuple(settings.AI_CATEGORIES)
TEMPLATE = "This example is about {}."


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    # Tiny models gain nothing from threads, and on a busy machine spinning threads cost.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield build_all(tmp_path_factory.mktemp("tiny-models"))
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def pipelines(tiny_models):
    return {
        "sentiment": transformers.pipeline("text-classification", model=tiny_models["sentiment"]),
        "language": transformers.pipeline("text-classification", model=tiny_models["language"]),
        "category": transformers.pipeline("zero-shot-classification", model=tiny_models["category"]),
    }


def make_engine(tiny_models, **overrides):
    options = {
        "sentiment_model": tiny_models["sentiment"],
        "language_model": tiny_models["language"],
        "category_model": tiny_models["category"],
        "categories": CATEGORIES,
        "hypothesis_template": TEMPLATE,
        "max_tokens": 0,  # the model's own limit, as the pipelines
        "evidence_weight": 0.0,  # the zero-shot label alone, as the pipeline
        "cache_seconds": 0,
        "device": "cpu",
    }
    options.update(overrides)
    return TransformersEngine(TransformersOptions(**options))


@pytest.fixture(scope="session")
def exact_engine(tiny_models):
    return make_engine(tiny_models)


@pytest.fixture(scope="session")
def texts():
    # Long real captions (truncated at the model's 128 tokens), tweets and 20 languages.
    pool = real_texts(per_language=1, tweets=4, topics=2)
    return apify_captions()[:4] + pool[:: max(1, len(pool) // 8)]


def pipeline_view(pipes, text):
    sentiment = pipes["sentiment"](text, truncation=True)[0]
    language = pipes["language"](text, truncation=True)[0]
    zero = pipes["category"](text, candidate_labels=list(CATEGORIES), hypothesis_template=TEMPLATE)
    return sentiment, language, dict(zip(zero["labels"], zero["scores"], strict=True)), zero["labels"][0]


def assert_same(result, pipes, text):
    sentiment, language, zero, top = pipeline_view(pipes, text)
    assert result.sentiment == sentiment["label"]
    assert result.sentiment_confidence == pytest.approx(sentiment["score"], abs=1e-4)
    assert result.language == language["label"]
    assert result.language_confidence == pytest.approx(language["score"], abs=1e-4)
    assert result.category == top
    assert result.raw["zero_shot_label"] == top
    for name, score in zero.items():
        assert result.raw["zero_shot"][name] == pytest.approx(score, abs=1e-4)
    assert result.category_confidence == pytest.approx(zero[top], abs=1e-4)


def test_matches_pipelines_one_by_one(exact_engine, pipelines, texts):
    for i, text in enumerate(texts[:6]):
        [result] = exact_engine.analyse([PostInput(key=str(i), caption=text)])
        assert result.key == str(i)
        assert_same(result, pipelines, text)


def test_matches_pipelines_in_one_batch(exact_engine, pipelines, texts):
    before = exact_engine.category_model.forward_passes
    results = exact_engine.analyse([PostInput(key=str(i), caption=t) for i, t in enumerate(texts)])
    assert [r.key for r in results] == [str(i) for i in range(len(texts))]
    for result, text in zip(results, texts, strict=True):
        assert_same(result, pipelines, text)
    # The (post, category) pairs go through length buckets of up to 32 rows, not one pass
    # per pair as in the pipeline.
    passes = exact_engine.category_model.forward_passes - before
    assert 1 <= passes <= len(texts) * len(CATEGORIES) / 8


def test_truncates_to_max_tokens_and_never_beyond_the_model(tiny_models):
    engine = make_engine(tiny_models, max_tokens=16)
    long_caption = apify_captions()[-1]
    rows = hf_models.encode_pairs(engine.category_model, [long_caption], ["This example is about Food."])
    assert len(rows[0]["input_ids"]) == 16
    assert rows[0]["input_ids"][-1] == 2  # the hypothesis survives, only the caption is cut
    assert make_engine(tiny_models, max_tokens=10_000).sentiment_model.max_length == 128


def test_results_carry_engine_models_and_format_version(exact_engine, tiny_models):
    [result] = exact_engine.analyse([PostInput(key="p", caption="Sunset run by the river")])
    assert result.engine == "transformers"
    for path in tiny_models.values():
        assert path in result.engine_version
        assert path in result.raw["models"].values()
    assert f"f{FORMAT_VERSION}" in result.engine_version
    assert result.raw["format_version"] == FORMAT_VERSION
    assert result.sentiment in SENTIMENT_LABELS
    assert result.language in (*LANGUAGES, "other")
    assert result.category in CATEGORIES
    assert -1 <= result.sentiment_score <= 1


def test_dedupes_and_caches_by_caption(tiny_models):
    engine = make_engine(tiny_models, cache_seconds=600)
    posts = [PostInput(key="a", caption="Pasta night"), PostInput(key="b", caption="Pasta night")]
    first = engine.analyse(posts)
    assert first[0].raw == first[1].raw and [r.key for r in first] == ["a", "b"]
    assert first[0].raw["category_candidates"] == len(CATEGORIES)
    passes = engine.forward_passes
    again = engine.analyse([PostInput(key="c", caption="Pasta night"), *posts])
    assert engine.forward_passes == passes  # every result came from the cache
    assert [r.key for r in again] == ["c", "a", "b"]
    assert again[1].to_dict() == first[0].to_dict()
    # Other hashtags are another input: computed again.
    engine.analyse([PostInput(key="d", caption="Pasta night", hashtags=("food",))])
    assert engine.forward_passes > passes


def test_cache_errors_are_ignored(tiny_models, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get_many", broken)
    monkeypatch.setattr(cache, "set_many", broken)
    engine = make_engine(tiny_models, cache_seconds=600)
    [result] = engine.analyse([PostInput(key="x", caption="Leg day at the gym")])
    assert result.category in CATEGORIES


def test_empty_caption_skips_the_models(exact_engine):
    passes = exact_engine.forward_passes
    with_tags, bare = exact_engine.analyse(
        [PostInput(key="t", caption="  ", hashtags=("foodie", "pizza")), PostInput(key="e", caption="")]
    )
    assert exact_engine.forward_passes == passes
    for result in (with_tags, bare):
        assert result.raw["empty_caption"] is True
        assert (result.sentiment, result.sentiment_confidence, result.language) == ("neutral", 0.0, "other")
    assert (with_tags.category, with_tags.raw["category_source"]) == ("Food", "evidence")
    assert with_tags.category_confidence > 0
    assert (bare.category, bare.category_confidence, bare.raw["category_source"]) == ("Lifestyle", 0.0, "default")


def test_top_k_limits_nli_to_the_categories_with_evidence(tiny_models):
    engine = make_engine(tiny_models, top_k=3)
    caption = "New recipe: homemade pizza dough and a quick pasta sauce #food #recipe"
    tagged, plain = engine.analyse(
        [PostInput(key="a", caption=caption, hashtags=("food", "recipe")), PostInput(key="b", caption="Hello there")]
    )
    assert tagged.raw["category_evidence"]["Food"] > 0
    assert tagged.raw["category_candidates"] == 3 and "Food" in tagged.raw["zero_shot"]
    assert sum(tagged.raw["zero_shot"].values()) == pytest.approx(1.0, abs=1e-5)
    assert plain.raw["category_candidates"] == len(CATEGORIES)  # no evidence: every category


class FixedShortlist:
    """Cosines that rank the categories in a fixed order (first = nearest), for every caption."""

    version = "fixed"

    def __init__(self, order):
        self.scores = np.array([-(order.index(c) if c in order else 99) for c in CATEGORIES], dtype=np.float32)
        self.calls = []

    def similarities(self, captions):
        self.calls.append(list(captions))
        return np.tile(self.scores, (len(captions), 1))


def test_embedding_shortlist_gives_every_post_k_categories(tiny_models):
    engine = make_engine(tiny_models, top_k=3)
    plain_version = engine.version
    shortlist = FixedShortlist(["Travel", "Pets", "Music", "Food"])
    engine.use_shortlist(shortlist)
    assert engine.version != plain_version and "+emb(fixed)" in engine.version  # never mixed in the cache
    caption = "New recipe: homemade pizza dough and a quick pasta sauce #food #recipe"
    tagged, plain = engine.analyse(
        [PostInput(key="a", caption=caption, hashtags=("food", "recipe")), PostInput(key="b", caption="Hello there")]
    )
    # No evidence: the three nearest categories instead of all twenty.
    assert plain.raw["category_candidates"] == 3
    assert set(plain.raw["zero_shot"]) == {"Travel", "Pets", "Music"}
    assert plain.category in {"Travel", "Pets", "Music"} and plain.raw["category_shortlist"] == "evidence+embeddings"
    # Evidence first, then the nearest of the rest.
    evidence = [c for c, v in tagged.raw["category_evidence"].items() if v > 0]
    assert "Food" in evidence and len(evidence) < 3
    nearest_rest = [c for c in ("Travel", "Pets", "Music", "Food") if c not in evidence]
    assert set(tagged.raw["zero_shot"]) == set(evidence) | set(nearest_rest[: 3 - len(evidence)])
    assert shortlist.calls == [[caption, "Hello there"]]  # one batch for the whole call


def test_a_failing_shortlist_costs_time_not_the_analysis(tiny_models, caplog):
    class BrokenShortlist:
        version = "broken"

        def similarities(self, captions):
            raise RuntimeError("out of memory")

    engine = make_engine(tiny_models, top_k=3)
    engine.use_shortlist(BrokenShortlist())
    [result] = engine.analyse([PostInput(key="b", caption="Hello there")])
    assert result.raw["category_candidates"] == len(CATEGORIES) and "category_shortlist" not in result.raw
    assert result.category in CATEGORIES and "embedding shortlist failed" in caplog.text


def test_shortlist_is_off_without_top_k(tiny_models):
    engine = make_engine(tiny_models, top_k=0)
    shortlist = FixedShortlist(["Travel"])
    engine.use_shortlist(shortlist)
    [result] = engine.analyse([PostInput(key="b", caption="Hello there")])
    assert result.raw["category_candidates"] == len(CATEGORIES) and "category_shortlist" not in result.raw
    assert shortlist.calls == [] and "+emb" not in engine.version


def test_evidence_blending_rule():
    zero = {"Food": 0.2, "Travel": 0.5, "Tech": 0.3}
    assert blend(zero, {}, 0.3) == zero
    assert blend(zero, {"Food": 3.0}, 0.0) == zero
    mixed = blend(zero, {"Food": 3.0, "Travel": 1.0}, 0.5)
    assert mixed == pytest.approx({"Food": 0.475, "Travel": 0.375, "Tech": 0.15})


def test_evidence_moves_the_category(tiny_models):
    caption = "Homemade pizza night with the family #food #pizza #recipe"
    post = PostInput(key="a", caption=caption, hashtags=("food", "pizza", "recipe"))
    [zero_only] = make_engine(tiny_models).analyse([post])
    [blended] = make_engine(tiny_models, evidence_weight=0.9).analyse([post])
    assert blended.category == "Food"
    assert blended.raw["zero_shot"] == pytest.approx(zero_only.raw["zero_shot"], abs=1e-6)
    assert blended.raw["category_source"] == "zero_shot+evidence"


def test_unsupported_sentiment_language_is_marked(tiny_models, exact_engine):
    text = "Bonjour à tous"
    [detected] = exact_engine.analyse([PostInput(key="a", caption=text)])
    engine = make_engine(tiny_models, sentiment_languages=("xx",))
    passes = engine.sentiment_model.forward_passes
    [result] = engine.analyse([PostInput(key="a", caption=text)])
    assert engine.sentiment_model.forward_passes == passes
    assert (result.sentiment, result.sentiment_score, result.sentiment_confidence) == ("neutral", 0.0, 0.0)
    assert result.raw["sentiment_supported"] is False
    assert result.language == detected.language
    supported = make_engine(tiny_models, sentiment_languages=(detected.language,))
    assert supported.analyse([PostInput(key="a", caption=text)])[0].raw["sentiment_supported"] is True


def test_int8_mode_quantises_linear_layers_and_runs(tiny_models, texts, exact_engine):
    engine = make_engine(tiny_models, quantize="int8", max_tokens=64)
    quantised = [m for m in engine.category_model.model.modules() if "quantized" in type(m).__module__]
    assert quantised and not any(type(m) is torch.nn.Linear for m in engine.category_model.model.modules())
    # XLM-R's embedding table (the largest fp32 block) is stored in 8 bits too.
    language_modules = list(engine.language_model.model.modules())
    assert not any(type(m) in (torch.nn.Linear, torch.nn.Embedding) for m in language_modules)
    results = engine.analyse([PostInput(key=str(i), caption=t) for i, t in enumerate(texts[:6])])
    assert all(r.category in CATEGORIES and r.sentiment in SENTIMENT_LABELS for r in results)
    assert engine.version != exact_engine.version  # never shares cached results with fp32


@pytest.fixture
def quantized_engine_restored():
    # Loading int8 models sets torch's process-wide quantized engine; give the next test torch's own.
    before = torch.backends.quantized.engine
    yield
    torch.backends.quantized.engine = before


@pytest.mark.usefixtures("quantized_engine_restored")
def test_int8_backend_reaches_the_kernels_and_the_version(tiny_models, texts, exact_engine):
    if "onednn" not in torch.backends.quantized.supported_engines:
        pytest.skip("onednn is not in this torch build")
    posts = [PostInput(key=str(i), caption=t) for i, t in enumerate(texts[:6])]
    exact = exact_engine.analyse(posts)
    scores = {}
    for backend in ("x86", "onednn"):
        # The same passes for both: int8 activation scales are per pass, so batching alone
        # would change the rounding.
        engine = make_engine(tiny_models, quantize="int8", int8_backend=backend, tokens_per_pass=1024)
        assert engine.int8_backends == {"language": backend, "category": backend, "sentiment": backend}
        assert f":q=int8-{backend}:" in engine.version
        results = engine.analyse(posts)
        assert results[0].raw["int8_backends"] == engine.int8_backends
        # int8 rounding only: the zero-shot probabilities stay close to fp32's.
        for quantised, full in zip(results, exact, strict=True):
            assert quantised.language == full.language
            for name, score in full.raw["zero_shot"].items():
                assert quantised.raw["zero_shot"][name] == pytest.approx(score, abs=0.05)
        scores[backend] = ([r.raw["zero_shot"] for r in results], engine.version)
    # The two engines round differently, so the backend really ran the layers (and their
    # results never share a cache entry).
    assert scores["x86"][0] != scores["onednn"][0]
    assert scores["x86"][1] != scores["onednn"][1]


@pytest.mark.usefixtures("quantized_engine_restored")
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx512f", "amx_tile", "amx_int8"}, {"language": "x86", "category": "onednn", "sentiment": "x86"}),
        ({"avx2", "avx512_vnni"}, {"language": "x86", "category": "x86", "sentiment": "x86"}),
    ],
)
def test_auto_int8_backends_by_cpu(tiny_models, monkeypatch, flags, expected):
    if "onednn" not in torch.backends.quantized.supported_engines:
        pytest.skip("onednn is not in this torch build")
    monkeypatch.setattr(hf_models, "cpu_flags", lambda: frozenset(flags))
    engine = make_engine(tiny_models, quantize="int8")
    assert engine.int8_backends == expected
    assert engine.tokens_per_pass == (256 if expected["category"] == "onednn" else 1024)
    [result] = engine.analyse([PostInput(key="a", caption="Coffee and a long walk by the river this morning")])
    assert result.raw["int8_backends"] == expected


def test_tokens_per_pass_bounds_the_forward_passes_without_changing_results(tiny_models, texts):
    posts = [PostInput(key=str(i), caption=t) for i, t in enumerate(texts[:8])]
    small = make_engine(tiny_models, tokens_per_pass=128, max_tokens=32)
    large = make_engine(tiny_models, tokens_per_pass=4096, max_tokens=32)
    assert small.version == large.version  # a speed/memory knob: results are shared
    fine, coarse = small.analyse(posts), large.analyse(posts)
    nli_small, nli_large = small.category_model, large.category_model
    assert nli_small.forward_passes > nli_large.forward_passes
    assert nli_small.padded_tokens <= 128 * nli_small.forward_passes
    for a, b in zip(fine, coarse, strict=True):
        assert (a.sentiment, a.language, a.category) == (b.sentiment, b.language, b.category)
        assert a.category_confidence == pytest.approx(b.category_confidence, abs=1e-4)


def test_int8_backend_auto_picks_onednn_only_with_amx_and_for_the_nli_model():
    amx = frozenset({"avx512f", "amx_int8", "amx_tile"})
    assert hf_models.int8_backend("auto", amx) == "onednn"
    # The small models stay on torch's default: oneDNN's second copy of the weights costs memory.
    assert hf_models.int8_backend("auto", amx, main=False) == hf_models.DEFAULT_INT8_BACKEND == "x86"
    assert hf_models.int8_backend("auto", frozenset({"avx2", "avx512_vnni"})) == "x86"
    assert hf_models.int8_backend("fbgemm") == "fbgemm"
    assert hf_models.int8_backend("onednn", main=False) == "onednn"
    with pytest.raises(ValueError, match="AI_INT8_BACKEND"):
        hf_models.int8_backend("tensorrt")


def test_bf16_mode_runs_in_bfloat16_with_fp32_labels_for_confident_inputs(tiny_models, texts, exact_engine):
    engine = make_engine(tiny_models, quantize="bf16")
    assert {p.dtype for p in engine.category_model.model.parameters()} == {torch.bfloat16}
    assert ":q=bf16:" in engine.version and engine.version != exact_engine.version
    posts = [PostInput(key=str(i), caption=t) for i, t in enumerate(texts[:6])]
    results = engine.analyse(posts)
    exact = exact_engine.analyse(posts)
    for half, full in zip(results, exact, strict=True):
        assert half.raw["quantize"] == "bf16"
        assert half.language == full.language
        assert half.language_confidence == pytest.approx(full.language_confidence, abs=0.02)
        for name, score in full.raw["zero_shot"].items():
            assert half.raw["zero_shot"][name] == pytest.approx(score, abs=0.02)


def test_bad_quantize_value_is_refused(tiny_models):
    with pytest.raises(ValueError, match="AI_QUANTIZE"):
        make_engine(tiny_models, quantize="int4")


@pytest.mark.django_db
def test_pipeline_end_to_end_with_the_transformer_engine(
    tiny_models, pipeline_settings, django_capture_on_commit_callbacks
):
    from analysis import services
    from analysis.engines import registry
    from analysis.models import AnalysisJob
    from profiles.models import Profile

    pipeline_settings.AI_ENGINE = "transformers"
    pipeline_settings.AI_SENTIMENT_MODEL = tiny_models["sentiment"]
    pipeline_settings.AI_LANGUAGE_MODEL = tiny_models["language"]
    pipeline_settings.AI_CATEGORY_MODEL = tiny_models["category"]
    registry.reset_engines()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job, _ = services.job_start(username="humansofny")
    finally:
        registry.reset_engines()
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.COMPLETED, (job.error_category, job.error_detail)
    profile = Profile.objects.get(username="humansofny")
    assert profile.posts.count() == 12
    assert profile.ai_engine.startswith("transformers:")
    for post in profile.posts.all():
        assert post.ai_analysis_raw["engine"] == "transformers"
        assert post.ai_analysis_raw["models"]["category"] == tiny_models["category"]
        assert post.ai_sentiment in SENTIMENT_LABELS and post.ai_content_category in CATEGORIES
        assert post.ai_analysis_raw["category_candidates"] == len(CATEGORIES)
    assert abs(sum(profile.ai_content_distribution.values()) - 1) < 1e-3


def test_length_buckets_keep_padding_small_and_respect_the_token_budget():
    lengths = [50, 7, 120, 9, 8, 51, 118, 6]
    groups = hf_models.buckets(lengths, token_budget=256, max_rows=3)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    for group in groups:
        widths = [lengths[i] for i in group]
        assert len(group) <= 3 and len(group) * max(widths) <= 256
    # Sorted by length, then cut greedily: short rows together, long ones together.
    assert [[lengths[i] for i in g] for g in groups] == [[6, 7, 8], [9, 50, 51], [118, 120]]
