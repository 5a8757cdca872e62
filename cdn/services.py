"""Store source images as WebP renditions and record the outcome on ``ImageAsset`` rows.

``image_asset_store`` handles one image, ``image_assets_store_many`` many at once: the slow
part (download, decode, encode, upload) runs in a thread pool while every database read
and write stays in the calling thread, so worker threads never open database connections
and no transaction is shared between threads.

Idempotent: a ready asset is returned without any download; a failed one is retried until
``CDN_MAX_ATTEMPTS`` attempts in total if its error was transient, never automatically if
it was permanent; ``force`` retries anything (and re-makes ready assets).
"""

import hashlib
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.db.models import F
from django.utils import timezone

from cdn.download import download_image
from cdn.errors import ImageSourceError
from cdn.images import render_webp
from cdn.models import ImageAsset, source_url_digest
from cdn.storage import public_url, rendition_key, rendition_save
from config.errors import ValidationFailed

logger = logging.getLogger(__name__)

_MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class _Stored:
    content_sha256: str
    storage_key: str
    public_url: str
    width: int
    height: int
    bytes: int
    format: str


@dataclass(frozen=True)
class _Outcome:
    stored: _Stored | None = None
    error: ImageSourceError | None = None


def image_asset_store(*, source_url: str, kind: str, force: bool = False) -> ImageAsset:
    """Store the image at ``source_url`` as a ``kind`` rendition; return its (ready or failed) asset.

    Failures do not raise: they are recorded on the asset (``status``, ``error_category``,
    ``last_error``, ``attempts``) so that callers can report them per image.
    """
    return image_assets_store_many(items=[(source_url, kind)], force=force)[(source_url, kind)]


def image_assets_store_many(
    *, items: Iterable[tuple[str, str]], max_workers: int = 8, force: bool = False
) -> dict[tuple[str, str], ImageAsset]:
    """Store many ``(source_url, kind)`` images concurrently; return the asset of each pair."""
    pairs = list(dict.fromkeys((url, kind) for url, kind in items))
    for url, kind in pairs:
        _validate(source_url=url, kind=kind)

    assets: dict[tuple[str, str], ImageAsset] = {}
    todo: list[tuple[str, str]] = []
    for pair in pairs:
        asset = _asset_get_or_create(source_url=pair[0], kind=pair[1])
        assets[pair] = asset
        if _needs_attempt(asset, force=force):
            todo.append(pair)

    if len(todo) <= 1 or max_workers <= 1:
        outcomes = [_produce(url, kind) for url, kind in todo]
    else:
        with ThreadPoolExecutor(max_workers=min(max_workers, len(todo)), thread_name_prefix="cdn") as pool:
            outcomes = list(pool.map(_produce_in_thread, todo))

    for pair, outcome in zip(todo, outcomes, strict=True):
        assets[pair] = _record(assets[pair], outcome)
    return assets


def _validate(*, source_url: str, kind: str) -> None:
    if kind not in ImageAsset.Kind.values:
        raise ValidationFailed(f"Unknown image kind {kind!r}.", details={"kind": kind})
    if not isinstance(source_url, str) or not source_url.strip():
        raise ValidationFailed("An image source URL is required.", details={"source_url": source_url})


def _asset_get_or_create(*, source_url: str, kind: str) -> ImageAsset:
    # get_or_create retries the read on an IntegrityError, so two workers racing on the
    # same (source, kind) end up with the one row.
    asset, _created = ImageAsset.objects.get_or_create(
        source_url_hash=source_url_digest(source_url), kind=kind, defaults={"source_url": source_url}
    )
    return asset


def _needs_attempt(asset: ImageAsset, *, force: bool) -> bool:
    if force:
        return True
    if asset.status == ImageAsset.Status.READY:
        return False
    if asset.status == ImageAsset.Status.FAILED:
        if asset.error_category == ImageAsset.ErrorCategory.PERMANENT:
            return False
        return asset.attempts < settings.CDN_MAX_ATTEMPTS
    return True


def _max_side(kind: str) -> int:
    return settings.CDN_AVATAR_SIZE if kind == ImageAsset.Kind.AVATAR else settings.CDN_THUMBNAIL_SIZE


def _produce(source_url: str, kind: str) -> _Outcome:
    """Download, render and upload one image; touches no database."""
    try:
        downloaded = download_image(source_url)
        rendition = render_webp(downloaded.content, max_side=_max_side(kind))
        key = rendition_key(kind=kind, content=rendition.content, extension=rendition.format)
        rendition_save(key=key, content=rendition.content)
    except ImageSourceError as exc:
        logger.info("cdn: %s failure for %s: %s", exc.category, source_url[:200], exc.message)
        return _Outcome(error=exc)
    return _Outcome(
        stored=_Stored(
            content_sha256=hashlib.sha256(downloaded.content).hexdigest(),
            storage_key=key,
            public_url=public_url(key),
            width=rendition.width,
            height=rendition.height,
            bytes=len(rendition.content),
            format=rendition.format,
        )
    )


def _produce_in_thread(pair: tuple[str, str]) -> _Outcome:
    try:
        return _produce(*pair)
    finally:
        # _produce does not use the database, but a storage backend or a signal handler
        # might; a connection opened by a pool thread would otherwise leak until exit.
        connections.close_all()


def _record(asset: ImageAsset, outcome: _Outcome) -> ImageAsset:
    now = timezone.now()
    # attempts is incremented in SQL so that concurrent workers on one asset both count.
    fields: dict = {"attempts": F("attempts") + 1, "last_attempt_at": now, "updated_at": now}
    if outcome.stored is not None:
        stored = outcome.stored
        fields.update(
            status=ImageAsset.Status.READY,
            content_sha256=stored.content_sha256,
            storage_key=stored.storage_key,
            public_url=stored.public_url,
            width=stored.width,
            height=stored.height,
            bytes=stored.bytes,
            format=stored.format,
            error_category=ImageAsset.ErrorCategory.NONE,
            last_error="",
        )
    else:
        error = outcome.error
        fields.update(
            error_category=error.category,
            last_error=f"{error.category}:{error.code}: {error.message}"[:_MAX_ERROR_LENGTH],
        )
        # A forced re-run of a ready asset that fails keeps the rendition it already has.
        if asset.status != ImageAsset.Status.READY:
            fields["status"] = ImageAsset.Status.FAILED
    ImageAsset.objects.filter(pk=asset.pk).update(**fields)
    asset.refresh_from_db()
    return asset
