"""image_asset_store_task: retries transient failures, never permanent ones (eager Celery)."""

import pytest

from cdn.models import ImageAsset
from cdn.tasks import image_asset_store_task
from tests.cdn.conftest import Reply, png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cdn_settings")]


@pytest.fixture(autouse=True)
def eager_retries(monkeypatch):
    # Eager Celery runs a retry at once, but only when errors are not propagated (with
    # propagation the Retry exception itself escapes, as a worker would re-queue it).
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def test_transient_errors_are_retried_until_success(image_host):
    url = image_host.route(
        "/t.png",
        Reply(status=503, content_type="text/plain"),
        Reply(status=500, content_type="text/plain"),
        Reply(body=png_bytes(64, 64)),
    )

    result = image_asset_store_task.delay(url, "thumbnail")

    asset = ImageAsset.objects.get(pk=result.get())
    assert asset.status == ImageAsset.Status.READY
    assert asset.attempts == 3
    assert image_host.hits["/t.png"] == 3


def test_retries_stop_at_max_attempts(image_host, settings):
    settings.CDN_MAX_ATTEMPTS = 2
    url = image_host.route("/down.png", Reply(status=502, content_type="text/plain"))

    result = image_asset_store_task.delay(url, "avatar")

    asset = ImageAsset.objects.get(pk=result.get())
    assert asset.status == ImageAsset.Status.FAILED and asset.attempts == 2
    assert image_host.hits["/down.png"] == 2


def test_permanent_errors_are_not_retried(image_host):
    url = image_host.route("/html", Reply(body=b"<p>hi</p>", content_type="text/html"))

    result = image_asset_store_task.delay(url, "thumbnail")

    asset = ImageAsset.objects.get(pk=result.get())
    assert asset.error_category == ImageAsset.ErrorCategory.PERMANENT
    assert image_host.hits["/html"] == 1


def test_task_is_routed_to_the_cdn_queue():
    from config.celery import app

    route = app.amqp.router.route({}, image_asset_store_task.name)
    assert route["queue"].name == "cdn"
