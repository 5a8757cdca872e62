"""Write renditions to Django's default storage under content-addressed keys.

The key is derived from the rendition's sha256, so identical renditions share one object
and a re-run uploads nothing: if the key exists, nothing is written. The storage is
``media/`` locally and S3/R2 (django-storages) when a bucket is configured.
"""

import hashlib

import boto3
from botocore.config import Config
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

RENDITIONS_PREFIX = "images/"
IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, no-store"


class ObjectStorage(S3Storage):
    """S3/R2 storage that tells caches how long each object may be kept.

    Renditions never change under their content-addressed key, so the CDN and browsers may
    keep them for a year; anything else (exports) is private and never cached.
    """

    def get_object_parameters(self, name: str) -> dict:
        params = super().get_object_parameters(name)
        params.setdefault("CacheControl", IMMUTABLE if name.startswith(RENDITIONS_PREFIX) else PRIVATE)
        return params


class PrivateObjectStorage(ObjectStorage):
    """A private bucket (exports): objects are read only through presigned URLs.

    ``public_endpoint_url`` (optional) is the endpoint as the client reaches it, when the
    servers talk to the bucket through an internal address (compose's ``http://minio:9000``):
    a presigned URL is signed for its host, so it is signed for that one (no request is made).
    """

    def __init__(self, *, public_endpoint_url: str | None = None, **settings_overrides) -> None:
        self.public_endpoint_url = public_endpoint_url
        super().__init__(**settings_overrides)

    def url(self, name: str, parameters: dict | None = None, expire: int | None = None, http_method=None) -> str:
        if not self.public_endpoint_url:
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        signer = boto3.client(
            "s3",
            endpoint_url=self.public_endpoint_url,
            region_name=self.region_name,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        return signer.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket_name, "Key": self._normalize_name(clean_name(name)), **(parameters or {})},
            ExpiresIn=expire or self.querystring_expire,
        )


def rendition_key(*, kind: str, content: bytes, extension: str) -> str:
    digest = hashlib.sha256(content).hexdigest()
    return f"{RENDITIONS_PREFIX}{kind}/{digest[:2]}/{digest}.{extension}"


def rendition_save(*, key: str, content: bytes) -> bool:
    """Store ``content`` under ``key`` unless it is there already; True if it was uploaded."""
    if default_storage.exists(key):
        return False
    saved_as = default_storage.save(key, ContentFile(content))
    if saved_as != key:
        # Another worker stored the same rendition between our exists() and save(), and the
        # file-system storage picked a fresh name instead of overwriting: the bytes are
        # identical (same content hash), so drop the copy.
        default_storage.delete(saved_as)
        return False
    return True


def public_url(key: str) -> str:
    base = settings.CDN_BASE_URL.rstrip("/")
    if base:
        return f"{base}/{key}"
    return default_storage.url(key)
