"""Image assets: one row per (source URL, kind), tracking its stored WebP rendition.

The cdn app knows nothing of creators: callers hand it a URL and a kind and get back a row
with a public URL (or the reason it failed). Source URLs can be long (signed Instagram CDN
URLs run to hundreds of characters), so uniqueness is on a sha256 of the URL, not the URL.
"""

import hashlib

from django.db import models

from config.models import UUIDModel


def source_url_digest(source_url: str) -> str:
    """The sha256 hex digest identifying a source URL (the unique key with ``kind``)."""
    return hashlib.sha256(source_url.encode("utf-8")).hexdigest()


class ImageAsset(UUIDModel):
    """A source image and its stored rendition.

    Status transitions: ``pending`` -> ``ready`` | ``failed``; ``failed`` -> ``ready`` on a
    later successful attempt. A ``ready`` asset that is forced again and fails keeps its
    stored rendition (and stays ``ready``) but records the error.
    """

    class Kind(models.TextChoices):
        AVATAR = "avatar", "Avatar"
        THUMBNAIL = "thumbnail", "Thumbnail"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class ErrorCategory(models.TextChoices):
        NONE = "", "None"
        # Retrying will not help (not an image, too big, refused address, 404...).
        PERMANENT = "permanent", "Permanent"
        # The source may answer later (timeouts, connection errors, 5xx, 429).
        TRANSIENT = "transient", "Transient"

    source_url = models.TextField()
    source_url_hash = models.CharField(max_length=64, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)

    content_sha256 = models.CharField(max_length=64, blank=True, db_index=True)  # of the original bytes
    storage_key = models.CharField(max_length=255, blank=True)
    public_url = models.CharField(max_length=1000, blank=True)  # absolute, or /media/... locally
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bytes = models.PositiveIntegerField(null=True, blank=True)  # size of the stored rendition
    format = models.CharField(max_length=16, blank=True)

    attempts = models.PositiveIntegerField(default=0)
    error_category = models.CharField(max_length=16, choices=ErrorCategory.choices, blank=True, default="")
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source_url_hash", "kind"], name="cdn_imageasset_unique_source_kind"),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | ~models.Q(storage_key=""),
                name="cdn_imageasset_ready_has_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "kind"], name="cdn_asset_status_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.source_url[:80]}"

    def save(self, *args, **kwargs):
        # The hash is derived data; keeping it in step here means no caller can forget it.
        self.source_url_hash = source_url_digest(self.source_url)
        super().save(*args, **kwargs)
