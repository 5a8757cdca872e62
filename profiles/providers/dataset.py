"""The dataset provider: Apify-format JSON exports in ``SCRAPER_DATASET_DIR`` (the embedded default).

Every ``*.json`` file in the directory is read, in name order, and indexed by username; both
export shapes are accepted (details: profiles with ``latestPosts``/``relatedProfiles``; posts:
posts with ``ownerUsername``, merged into their owner's profile), trimmed or not. Relative image
references resolve against the export file's directory to ``file://`` URIs, so that a dataset
bundled with its own images (``sample_data/``) works offline; the CDN accepts those only inside
``CDN_LOCAL_SOURCE_ROOTS``.

The index is cached in-process and rebuilt when a file is added, removed or modified.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from django.conf import settings

from profiles.providers.base import CallInfo, ProfileNotFound, ProfilePrivate, ScrapedProfile
from profiles.providers.normalize import merge, parse_export, relative_resolver, valid_username

logger = logging.getLogger(__name__)

_cache: dict[str, tuple[tuple, dict[str, ScrapedProfile]]] = {}
_lock = threading.Lock()


def load_export(path: Path) -> tuple[list[ScrapedProfile], list[str]]:
    """Parse one export file (either shape) with image paths resolved beside it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [], [f"{path.name}: cannot read JSON ({exc})"]
    profiles, problems = parse_export(data, relative_resolver(path.parent))
    return profiles, [f"{path.name}: {problem}" for problem in problems]


def _signature(files: list[Path]) -> tuple:
    signature = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        signature.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def dataset_index(directory: Path | str | None = None) -> dict[str, ScrapedProfile]:
    """Username -> profile over every export in ``directory`` (cached until a file changes)."""
    directory = Path(directory or settings.SCRAPER_DATASET_DIR)
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    signature = _signature(files)
    key = str(directory.resolve())
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == signature:
            return cached[1]
    index: dict[str, ScrapedProfile] = {}
    for path in files:
        profiles, problems = load_export(path)
        for problem in problems:
            logger.warning("dataset: %s", problem)
        for profile in profiles:
            existing = index.get(profile.username)
            if existing is None:
                index[profile.username] = profile
            elif existing.partial and not profile.partial:
                index[profile.username] = merge(profile, existing)
            else:
                index[profile.username] = merge(existing, profile)
    with _lock:
        _cache[key] = (signature, index)
    return index


class DatasetProvider:
    name = "dataset"

    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory or settings.SCRAPER_DATASET_DIR)

    def fetch(self, username: str, *, call: CallInfo | None = None) -> ScrapedProfile:
        call = call if call is not None else CallInfo()
        call.attempts = 1
        username = valid_username(username)
        profile = dataset_index(self.directory).get(username) if username else None
        if profile is None:
            raise ProfileNotFound(f"@{username or '?'} is not in the dataset {self.directory}.", username=username)
        call.results_returned = 1
        if profile.is_private and not profile.posts:
            raise ProfilePrivate(f"@{username} is private.", username=username)
        return profile
