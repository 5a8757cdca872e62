"""Issue 15 #8: exports are private — their own bucket, read through short-lived signed URLs.

Before: exports were saved in the default storage, i.e. the media bucket that compose made
readable by anyone (and, locally, under MEDIA_URL).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
import yaml
from botocore.config import Config
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from moto.server import ThreadedMotoServer

from profiles.models import Export
from tests.cdn.conftest import free_port
from tests.config.subprocess_settings import BASE_DIR, load_settings
from tests.factories import account_of

BUCKET, REGION = "creator-exports-test", "eu-west-1"


def test_compose_keeps_exports_in_a_private_bucket():
    compose = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())
    env = compose["services"]["api"]["environment"]
    assert env["AWS_EXPORTS_BUCKET_NAME"] and env["AWS_S3_EXPORTS_PUBLIC_ENDPOINT_URL"]
    script = " ".join(compose["services"]["createbuckets"]["entrypoint"])
    assert 'mc anonymous set none "local/$$S3_EXPORTS_BUCKET"' in script
    # only the renditions' prefix of the media bucket is public, never the whole bucket
    assert 'mc anonymous set download "local/$$S3_BUCKET/images"' in script
    assert 'mc anonymous set download "local/$$S3_BUCKET"' not in script


def test_with_a_bucket_exports_get_a_private_signed_storage():
    found = load_settings(["STORAGES"], AWS_STORAGE_BUCKET_NAME="media", AWS_ACCESS_KEY_ID="k")["STORAGES"]
    exports = found["exports"]
    assert exports["BACKEND"] == "cdn.storage.PrivateObjectStorage"
    assert exports["OPTIONS"]["bucket_name"] == "media-exports"
    assert exports["OPTIONS"]["querystring_auth"] is True and exports["OPTIONS"]["default_acl"] == "private"
    local = load_settings(["STORAGES", "MEDIA_ROOT"])
    assert local["STORAGES"]["exports"]["OPTIONS"]["location"] != local["MEDIA_ROOT"]


@pytest.fixture
def s3_exports(settings):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    settings.AWS_ACCESS_KEY_ID = settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_ENDPOINT_URL, settings.AWS_S3_REGION_NAME = endpoint, REGION
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "cdn.storage.PrivateObjectStorage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "querystring_auth": True,
                "querystring_expire": 300,
                "custom_domain": None,
                "default_acl": "private",
                # as compose: the servers use one address, browsers another (here the same server)
                "public_endpoint_url": f"http://localhost:{port}",
            },
        },
    }
    yield endpoint, client
    requests.post(f"{endpoint}/moto-api/reset", timeout=5)
    server.stop()


@pytest.mark.django_db
def test_download_redirects_to_a_short_lived_signed_url(s3_exports, api_client, other_client, user):
    _endpoint, client = s3_exports
    export = Export.objects.create(
        team_id=account_of(user), user=user, usernames=["humansofny"], format="csv", status=Export.Status.READY
    )
    export.file.save(f"{export.pk}.csv", ContentFile(b"username\nhumansofny\n"), save=True)
    assert isinstance(export.file.storage, type(storages["exports"]))
    assert client.get_object(Bucket=BUCKET, Key=export.file.name)["Body"].read() == b"username\nhumansofny\n"

    response = api_client.get(f"/api/v1/exports/{export.pk}/download")
    assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
    signed = urlsplit(response["Location"])
    query = parse_qs(signed.query)
    assert signed.netloc.startswith("localhost:")  # signed for the browsers' address
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Signature"]
    assert "attachment" in query["response-content-disposition"][0]
    fetched = requests.get(response["Location"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == b"username\nhumansofny\n"
    # (moto does not check signatures, so a tampered URL is not tested here)
    assert other_client.get(f"/api/v1/exports/{export.pk}/download").status_code == 404


@pytest.mark.django_db
def test_local_exports_are_not_under_media_url(api_client, user, settings):
    export = Export.objects.create(
        team_id=account_of(user), user=user, usernames=["x"], format="csv", status=Export.Status.READY
    )
    export.file.save(f"{export.pk}.csv", ContentFile(b"username\nx\n"), save=True)
    assert not export.file.path.startswith(str(settings.MEDIA_ROOT))
    response = api_client.get(f"/api/v1/exports/{export.pk}/download")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"username\nx\n"
