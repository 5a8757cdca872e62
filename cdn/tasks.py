"""Celery tasks of the cdn app (queue ``cdn`` via ``CELERY_TASK_ROUTES``): thin wrappers of services."""

import random

from celery import shared_task
from django.conf import settings

from cdn.models import ImageAsset
from cdn.services import image_asset_store

_BACKOFF_BASE_SECONDS = 5
_BACKOFF_MAX_SECONDS = 300


def _backoff(retries: int) -> float:
    # Full jitter: spreads out the retries of a batch whose source host fell over at once.
    return random.uniform(0, min(_BACKOFF_MAX_SECONDS, _BACKOFF_BASE_SECONDS * 2**retries))


@shared_task(bind=True, acks_late=True, max_retries=None, soft_time_limit=120, time_limit=150)
def image_asset_store_task(self, source_url: str, kind: str) -> str:
    """Store one image; retry with backoff while its failure is transient and attempts remain.

    The service records every attempt on the asset and refuses to go past
    ``CDN_MAX_ATTEMPTS``, so the attempt counter, not Celery's, bounds the retries.
    """
    asset = image_asset_store(source_url=source_url, kind=kind)
    if (
        asset.status == ImageAsset.Status.FAILED
        and asset.error_category == ImageAsset.ErrorCategory.TRANSIENT
        and asset.attempts < settings.CDN_MAX_ATTEMPTS
    ):
        raise self.retry(countdown=_backoff(self.request.retries))
    return str(asset.id)
