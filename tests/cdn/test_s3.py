"""Renditions land in an S3 bucket through django-storages (moto's server as a real S3 endpoint)."""

import boto3
import pytest
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from cdn.models import ImageAsset
from cdn.services import image_asset_store
from tests.cdn.conftest import Reply, free_port, png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cdn_settings")]

BUCKET = "creator-images"
REGION = "eu-west-1"


@pytest.fixture
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    yield endpoint
    # moto keeps its backends in-process: clear them so that no bucket outlives the test.
    requests.post(f"{endpoint}/moto-api/reset", timeout=5)
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


@pytest.fixture
def s3_settings(settings, s3_endpoint):
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = REGION
    settings.CDN_BASE_URL = "https://images.example.com"
    # Changing STORAGES makes Django drop its cached default storage, so the next use builds
    # an S3Storage from the settings above.
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "cdn.storage.ObjectStorage"}}
    return settings


@pytest.fixture
def s3_uploads(monkeypatch):
    saved: list[str] = []
    original = S3Storage._save

    def counting_save(self, name, content):
        saved.append(name)
        return original(self, name, content)

    monkeypatch.setattr(S3Storage, "_save", counting_save)
    return saved


def test_rendition_is_uploaded_to_the_bucket(s3_settings, s3_client, s3_uploads, image_host):
    body = png_bytes(1200, 800, color=(0, 90, 160))
    url = image_host.route("/s3.png", Reply(body=body))

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert asset.status == ImageAsset.Status.READY, asset.last_error
    stored = s3_client.get_object(Bucket=BUCKET, Key=asset.storage_key)
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"
    data = stored["Body"].read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert len(data) == asset.bytes
    assert stored["ContentType"] == "image/webp"
    assert asset.public_url == f"https://images.example.com/{asset.storage_key}"
    assert s3_uploads == [asset.storage_key]

    # Another source with the same picture: the object exists, nothing is uploaded.
    twin = image_asset_store(source_url=image_host.route("/twin.png", Reply(body=body)), kind="thumbnail")
    assert twin.storage_key == asset.storage_key
    assert s3_uploads == [asset.storage_key]
    listed = s3_client.list_objects_v2(Bucket=BUCKET)
    assert [obj["Key"] for obj in listed["Contents"]] == [asset.storage_key]


def test_without_cdn_base_url_the_storage_url_is_used(s3_settings, s3_client, image_host, s3_endpoint):
    s3_settings.CDN_BASE_URL = ""
    asset = image_asset_store(source_url=image_host.route("/u.png", Reply(body=png_bytes(10, 10))), kind="avatar")

    assert asset.public_url == f"{s3_endpoint}/{BUCKET}/{asset.storage_key}"


def test_objects_other_than_renditions_are_private(s3_settings, s3_client):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("exports/report.csv", ContentFile(b"username\nhumansofny\n"))
    stored = s3_client.get_object(Bucket=BUCKET, Key=name)
    assert stored["CacheControl"] == "private, no-store" and stored["Body"].read().startswith(b"username")
