"""Reads of image assets."""

from django.db.models import QuerySet

from cdn.models import ImageAsset, source_url_digest


def image_asset_get(*, source_url: str, kind: str) -> ImageAsset | None:
    """The asset for ``(source_url, kind)``, or None if it was never requested."""
    return ImageAsset.objects.filter(source_url_hash=source_url_digest(source_url), kind=kind).first()


def image_assets_failed() -> QuerySet[ImageAsset]:
    """Failed assets, most recently attempted first (the per-asset failure report)."""
    return ImageAsset.objects.filter(status=ImageAsset.Status.FAILED).order_by("-last_attempt_at", "-created_at")
