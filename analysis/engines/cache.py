"""Result cache of the AI engines, keyed by a hash of what determines a result.

A post's analysis depends only on its caption, its hashtags and the engine (models, options,
format version), so identical captions — reposts, creators analysed again, the same text in
several jobs — are computed once per ``AI_CACHE_SECONDS``. The cache is an accelerator, never a
dependency: any cache error is logged and treated as a miss.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

KEY_PREFIX = "ai:result:"


def result_fingerprint(*, caption: str, hashtags: tuple[str, ...] | list[str], engine_version: str) -> str:
    """sha256 of the engine version, caption and hashtags (unit separators keep fields apart)."""
    payload = "\x1e".join([engine_version, caption, "\x1f".join(hashtags)])
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def cached_results(fingerprints: list[str]) -> dict[str, dict[str, Any]]:
    """The cached result dicts by fingerprint; missing or unreadable entries are left out."""
    if not fingerprints:
        return {}
    try:
        found = cache.get_many([KEY_PREFIX + fp for fp in fingerprints])
    except Exception as exc:  # noqa: BLE001 - a broken cache must not stop the analysis
        logger.warning("AI result cache read failed: %s", exc)
        return {}
    return {key[len(KEY_PREFIX) :]: value for key, value in found.items() if isinstance(value, dict)}


def store_results(results: dict[str, dict[str, Any]], *, timeout: int) -> None:
    """Store result dicts by fingerprint for ``timeout`` seconds (0 or less: do not cache)."""
    if not results or timeout <= 0:
        return
    try:
        cache.set_many({KEY_PREFIX + fp: value for fp, value in results.items()}, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - a broken cache must not stop the analysis
        logger.warning("AI result cache write failed: %s", exc)
