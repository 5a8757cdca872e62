"""Celery tasks of the cdn app (queue ``cdn``): thin wrappers of services."""

from django.conf import settings

from cdn.models import ImageAsset
from cdn.services import image_asset_store
from config.errors import TransientError
from config.tasks import app_task


class ImageStoreTransientFailure(TransientError):
    """The image's host failed in a way that may pass (timeout, 5xx): the task retries."""


# The service records every attempt on the asset and refuses to go past CDN_MAX_ATTEMPTS, so
# the asset's attempt counter, not Celery's, bounds the retries (max_retries=None).
@app_task(queue="cdn", max_retries=None, soft_time_limit=120, time_limit=150)
def image_asset_store_task(source_url: str, kind: str) -> str:
    """Store one image; a transient failure with attempts left is retried (the one retry policy)."""
    asset = image_asset_store(source_url=source_url, kind=kind)
    if (
        asset.status == ImageAsset.Status.FAILED
        and asset.error_category == ImageAsset.ErrorCategory.TRANSIENT
        and asset.attempts < settings.CDN_MAX_ATTEMPTS
    ):
        raise ImageStoreTransientFailure(f"{asset.last_error[:200]} (attempt {asset.attempts})")
    return str(asset.id)
