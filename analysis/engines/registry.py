"""Which engine analyses posts: ``get_engine()`` by ``AI_ENGINE`` (rules | transformers | auto).

One engine instance per process, built on first use. Importing this module imports
neither torch nor transformers: only building the transformer engine does, so the web
process (which only ever builds the rules engine, or none) never loads them.

``auto`` builds the transformer engine and, if any of its models cannot be loaded, logs
the reason once and keeps the rule-based engine for the life of the process — a worker
without the models degrades instead of crash-looping. ``transformers`` raises
``EngineUnavailable`` with the reason instead. With eager tasks (no broker: the pipeline
runs inside the web process) ``auto`` means the rule-based engine, so that the web process
never loads torch; ``AI_ENGINE=transformers`` forces the models there.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from analysis.engines.base import Engine

logger = logging.getLogger(__name__)

ENGINE_NAMES = ("rules", "transformers", "auto")
AI_QUEUE = "ai"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class EngineUnavailable(RuntimeError):
    """The requested engine cannot be built (a model is missing or does not load)."""


def _build_rules() -> Engine:
    from analysis.engines.rules import RulesEngine

    return RulesEngine()


def _build_transformers() -> Engine:
    # The only place that imports the transformer engine, and with it torch.
    from analysis.engines.transformer_engine import TransformersEngine

    try:
        return TransformersEngine.from_settings()
    except Exception as exc:
        raise EngineUnavailable(f"The transformer engine's models could not be loaded: {exc!r}") from exc


def _runs_in_web_process() -> bool:
    from django.conf import settings

    # Without a broker, tasks run eagerly inside the web process, which must not load torch.
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def _build(name: str) -> Engine:
    if name == "rules":
        return _build_rules()
    if name == "transformers":
        return _build_transformers()
    if _runs_in_web_process():
        logger.info("AI_ENGINE=auto with eager tasks (no broker): using the rule-based engine in this process.")
        return _build_rules()
    try:
        return _build_transformers()
    except EngineUnavailable as exc:
        logger.warning("AI_ENGINE=auto: falling back to the rule-based engine. %s", exc)
        return _build_rules()


def get_engine(name: str | None = None) -> Engine:
    """The process's engine for ``name`` (default ``settings.AI_ENGINE``), built once."""
    if name is None:
        from django.conf import settings

        name = settings.AI_ENGINE
    name = (name or "auto").strip().lower()
    if name not in ENGINE_NAMES:
        raise EngineUnavailable(f"Unknown AI_ENGINE {name!r}; expected one of {', '.join(ENGINE_NAMES)}.")
    engine = _engines.get(name)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(name)
        if engine is None:
            engine = _build(name)
            _engines[name] = engine
    return engine


def reset_engines() -> None:
    """Forget the built engines (tests, or after changing the AI settings at run time)."""
    with _lock:
        _engines.clear()


def warm_up(name: str | None = None) -> Engine:
    """Build the engine now (models loaded) instead of on the first task."""
    engine = get_engine(name)
    if engine.name == "rules":
        from analysis.engines.rules import warm_up as load_rules

        load_rules()
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
