"""image_asset_store / image_assets_store_many against a real local image host and file storage."""

import hashlib
import io
import re
import time
from pathlib import Path

import pytest
from PIL import Image

from cdn.models import ImageAsset
from cdn.selectors import image_asset_get, image_assets_failed
from cdn.services import image_asset_store, image_assets_store_many
from config.errors import ValidationFailed
from tests.cdn.conftest import (
    ImageHost,
    Reply,
    bomb_png,
    free_port,
    half_transparent_png,
    png_bytes,
    two_tone_jpeg_with_orientation,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cdn_settings")]

KEY_RE = re.compile(r"^images/(?P<kind>avatar|thumbnail)/(?P<prefix>[0-9a-f]{2})/(?P<digest>[0-9a-f]{64})\.webp$")


def ppm_bytes(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (9, 9, 9)).save(out, format="PPM")
    return out.getvalue()


def stored_bytes(settings, asset: ImageAsset) -> bytes:
    return (Path(settings.MEDIA_ROOT) / asset.storage_key).read_bytes()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_thumbnail_is_stored_as_webp_under_a_content_addressed_key(image_host, settings, uploads):
    original = png_bytes(1280, 960)
    url = image_host.route("/photo.png", Reply(body=original))

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert asset.status == ImageAsset.Status.READY
    assert (asset.width, asset.height, asset.format) == (640, 480, "webp")
    assert asset.attempts == 1 and asset.last_attempt_at is not None
    assert asset.content_sha256 == hashlib.sha256(original).hexdigest()
    data = stored_bytes(settings, asset)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert asset.bytes == len(data)
    match = KEY_RE.match(asset.storage_key)
    assert match and match["kind"] == "thumbnail"
    assert match["digest"] == hashlib.sha256(data).hexdigest() and match["prefix"] == match["digest"][:2]
    assert asset.public_url == f"/media/{asset.storage_key}"
    assert decode(data).size == (640, 480)
    assert uploads == [asset.storage_key]


def test_avatar_long_side_is_320(image_host, settings):
    url = image_host.route("/avatar.png", Reply(body=png_bytes(500, 1000)))

    asset = image_asset_store(source_url=url, kind="avatar")

    assert (asset.width, asset.height) == (160, 320)
    assert decode(stored_bytes(settings, asset)).size == (160, 320)
    assert asset.storage_key.startswith("images/avatar/")


def test_small_images_are_never_upscaled(image_host, settings):
    url = image_host.route("/small.png", Reply(body=png_bytes(100, 50)))

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert (asset.width, asset.height) == (100, 50)


def test_exif_orientation_is_applied(image_host, settings):
    # Stored 800x400 (red left, blue right) with Orientation=6: shown rotated 90° clockwise,
    # so upright it is 400x800 with red on top.
    url = image_host.route(
        "/rotated.jpg", Reply(body=two_tone_jpeg_with_orientation(800, 400, 6), content_type="image/jpeg")
    )

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert (asset.width, asset.height) == (320, 640)
    image = decode(stored_bytes(settings, asset)).convert("RGB")
    top, bottom = image.getpixel((160, 80)), image.getpixel((160, 560))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_transparency_is_kept(image_host, settings):
    url = image_host.route("/alpha.png", Reply(body=half_transparent_png(200, 100)))

    asset = image_asset_store(source_url=url, kind="thumbnail")

    image = decode(stored_bytes(settings, asset))
    assert image.mode == "RGBA"
    assert image.getpixel((20, 50))[3] == 0
    assert image.getpixel((180, 50))[3] == 255


def test_second_call_downloads_and_uploads_nothing(image_host, uploads):
    url = image_host.route("/once.png", Reply(body=png_bytes(700, 700)))

    first = image_asset_store(source_url=url, kind="thumbnail")
    second = image_asset_store(source_url=url, kind="thumbnail")

    assert second.pk == first.pk and second.status == ImageAsset.Status.READY
    assert image_host.hits["/once.png"] == 1
    assert len(uploads) == 1
    assert second.attempts == 1


def test_identical_renditions_share_one_object(image_host, uploads):
    body = png_bytes(900, 300, color=(10, 120, 200))
    url_a = image_host.route("/a.png", Reply(body=body))
    url_b = image_host.route("/b.png", Reply(body=body))

    a = image_asset_store(source_url=url_a, kind="thumbnail")
    b = image_asset_store(source_url=url_b, kind="thumbnail")

    assert a.pk != b.pk
    assert a.storage_key == b.storage_key
    assert len(uploads) == 1


def test_force_downloads_again_but_uploads_nothing_new(image_host, uploads):
    url = image_host.route("/forced.png", Reply(body=png_bytes(300, 300)))
    image_asset_store(source_url=url, kind="thumbnail")

    asset = image_asset_store(source_url=url, kind="thumbnail", force=True)

    assert image_host.hits["/forced.png"] == 2
    assert asset.attempts == 2 and asset.status == ImageAsset.Status.READY
    assert len(uploads) == 1


def test_a_failed_forced_rerun_keeps_the_stored_rendition(image_host):
    url = image_host.route("/kept.png", Reply(body=png_bytes(40, 40)), Reply(status=500, content_type="text/plain"))
    ready = image_asset_store(source_url=url, kind="avatar")

    again = image_asset_store(source_url=url, kind="avatar", force=True)

    assert again.status == ImageAsset.Status.READY
    assert (again.public_url, again.storage_key) == (ready.public_url, ready.storage_key)
    assert again.last_error.startswith("transient:http_error") and again.attempts == 2
    assert list(image_assets_failed()) == []


def test_same_url_as_avatar_and_thumbnail_are_two_assets(image_host):
    url = image_host.route("/both.png", Reply(body=png_bytes(1000, 1000)))

    thumb = image_asset_store(source_url=url, kind="thumbnail")
    avatar = image_asset_store(source_url=url, kind="avatar")

    assert thumb.pk != avatar.pk
    assert (thumb.width, avatar.width) == (640, 320)


def test_server_error_then_success_is_recorded_and_retried(image_host):
    url = image_host.route("/flaky.png", Reply(status=500, content_type="text/plain"), Reply(body=png_bytes(50, 50)))

    failed = image_asset_store(source_url=url, kind="thumbnail")

    assert failed.status == ImageAsset.Status.FAILED
    assert failed.error_category == ImageAsset.ErrorCategory.TRANSIENT
    assert failed.last_error.startswith("transient:http_error")
    assert failed.attempts == 1
    assert list(image_assets_failed()) == [failed]

    ready = image_asset_store(source_url=url, kind="thumbnail")

    assert ready.pk == failed.pk
    assert ready.status == ImageAsset.Status.READY
    assert ready.attempts == 2
    assert ready.last_error == "" and ready.error_category == ""
    assert list(image_assets_failed()) == []


def test_host_down_then_back(settings):
    port = free_port()
    url = f"http://127.0.0.1:{port}/back.png"

    failed = image_asset_store(source_url=url, kind="avatar")
    assert failed.status == ImageAsset.Status.FAILED
    assert failed.last_error.startswith("transient:connection_error")

    host = ImageHost(port=port)
    try:
        host.route("/back.png", Reply(body=png_bytes(640, 480)))
        ready = image_asset_store(source_url=url, kind="avatar")
    finally:
        host.stop()
    assert ready.status == ImageAsset.Status.READY and ready.attempts == 2
    assert (ready.width, ready.height) == (320, 240)


def test_transient_failures_stop_after_max_attempts_unless_forced(image_host, settings):
    settings.CDN_MAX_ATTEMPTS = 2
    url = image_host.route("/down.png", Reply(status=503, content_type="text/plain"))

    for _ in range(4):
        asset = image_asset_store(source_url=url, kind="thumbnail")

    assert image_host.hits["/down.png"] == 2
    assert asset.attempts == 2 and asset.status == ImageAsset.Status.FAILED

    asset = image_asset_store(source_url=url, kind="thumbnail", force=True)
    assert image_host.hits["/down.png"] == 3 and asset.attempts == 3


def test_permanent_failures_are_not_retried_without_force(image_host):
    url = image_host.route("/page", Reply(body=b"<html></html>", content_type="text/html"))

    asset = image_asset_store(source_url=url, kind="thumbnail")
    assert asset.status == ImageAsset.Status.FAILED
    assert asset.error_category == ImageAsset.ErrorCategory.PERMANENT
    assert asset.last_error.startswith("permanent:bad_content_type")

    image_asset_store(source_url=url, kind="thumbnail")
    assert image_host.hits["/page"] == 1

    image_asset_store(source_url=url, kind="thumbnail", force=True)
    assert image_host.hits["/page"] == 2


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(body=b"definitely not a png, just text", content_type="image/png"), "not_an_image"),
        (Reply(body=png_bytes(300, 300)[:200], content_type="image/png"), "not_an_image"),
        (Reply(status=404, content_type="text/plain"), "http_error"),
        (Reply(body=bomb_png(100_000, 100_000)), "decompression_bomb"),
        # Pillow decodes PPM fine, but only the formats image hosts serve are parsed.
        (Reply(body=ppm_bytes(20, 20), content_type="image/x-portable-pixmap"), "not_an_image"),
    ],
    ids=["garbage", "truncated", "404", "bomb", "ppm"],
)
def test_permanent_failures(image_host, settings, reply, code, uploads):
    url = image_host.route("/bad", reply)

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert asset.status == ImageAsset.Status.FAILED
    assert asset.error_category == "permanent"
    assert asset.last_error.startswith(f"permanent:{code}")
    assert uploads == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_images_in_pillows_warning_range_are_refused_too(image_host, monkeypatch):
    # Between MAX_IMAGE_PIXELS and twice that, Pillow only warns; we refuse.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)
    url = image_host.route("/big.png", Reply(body=png_bytes(100, 100)))

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert asset.last_error.startswith("permanent:decompression_bomb")


def test_over_size_bodies_are_refused(image_host, settings, uploads):
    settings.CDN_MAX_BYTES = 10_000
    body = png_bytes(400, 400, mode="RGB", color=(1, 2, 3)) + b"\x00" * 50_000
    declared = image_host.route("/declared.png", Reply(body=body))
    streamed = image_host.route("/streamed.png", Reply(body=body, send_length=False))

    assert image_asset_store(source_url=declared, kind="thumbnail").last_error.startswith("permanent:too_large")
    assert image_asset_store(source_url=streamed, kind="thumbnail").last_error.startswith("permanent:too_large")
    assert uploads == []


def test_slow_source_times_out_as_transient(image_host, settings):
    settings.CDN_READ_TIMEOUT = 0.3
    url = image_host.route("/slow.png", Reply(body=png_bytes(10, 10), delay=1.5))

    started = time.monotonic()
    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert time.monotonic() - started < 1.2
    assert asset.status == ImageAsset.Status.FAILED
    assert asset.last_error.startswith("transient:timeout")


def test_cdn_base_url_makes_the_public_url(image_host, settings):
    settings.CDN_BASE_URL = "https://cdn.example.com/"
    url = image_host.route("/p.png", Reply(body=png_bytes(20, 20)))

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert asset.public_url == f"https://cdn.example.com/{asset.storage_key}"


def test_local_file_inside_a_source_root(settings, tmp_path):
    settings.CDN_ALLOW_PRIVATE_SOURCES = False
    image_path = tmp_path / "dataset" / "images" / "post 1.png"
    image_path.parent.mkdir()
    image_path.write_bytes(png_bytes(1000, 500))

    asset = image_asset_store(source_url=image_path.as_uri(), kind="thumbnail")

    assert asset.status == ImageAsset.Status.READY
    assert (asset.width, asset.height) == (640, 320)


def test_store_many_is_concurrent_and_deduplicated(image_host, settings):
    # 13 images that each take 0.5 s to answer: one after another would take over 6.5 s.
    items = []
    for index in range(12):
        url = image_host.route(
            f"/post{index}.png", Reply(body=png_bytes(1080, 1350, color=(index * 20, 0, 0)), delay=0.5)
        )
        items.append((url, "thumbnail"))
    avatar = image_host.route("/avatar.png", Reply(body=png_bytes(1080, 1080), delay=0.5))
    items.append((avatar, "avatar"))
    broken = image_host.route("/broken.png", Reply(status=502, content_type="text/plain"))
    items += [(broken, "thumbnail"), items[0]]

    started = time.monotonic()
    assets = image_assets_store_many(items=items, max_workers=8)
    elapsed = time.monotonic() - started

    # One after another would take over 6.5 s; the bound is loose because CI machines are busy.
    assert image_host.max_in_flight >= 4
    assert elapsed < 5.0
    assert len(assets) == 14
    assert image_host.hits["/post0.png"] == 1
    ready = [a for a in assets.values() if a.status == ImageAsset.Status.READY]
    assert len(ready) == 13
    assert assets[(avatar, "avatar")].width == 320
    assert {(a.width, a.height) for key, a in assets.items() if key[1] == "thumbnail" and key[0] != broken} == {
        (512, 640)
    }
    assert assets[(broken, "thumbnail")].status == ImageAsset.Status.FAILED
    assert ImageAsset.objects.count() == 14

    # A re-run downloads only what failed transiently.
    again = image_assets_store_many(items=items)
    assert image_host.hits.pop("/broken.png") == 2
    assert set(image_host.hits.values()) == {1}
    assert {key: a.pk for key, a in again.items()} == {key: a.pk for key, a in assets.items()}


def test_selectors(image_host):
    url = image_host.route("/sel.png", Reply(body=png_bytes(10, 10)))
    assert image_asset_get(source_url=url, kind="thumbnail") is None

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert image_asset_get(source_url=url, kind="thumbnail") == asset
    assert image_asset_get(source_url=url, kind="avatar") is None


def test_long_source_urls_are_accepted(image_host):
    url = image_host.route("/long.png", Reply(body=png_bytes(10, 10))) + "?sig=" + "x" * 3000

    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert asset.status == ImageAsset.Status.READY and asset.source_url == url


@pytest.mark.parametrize(("url", "kind"), [("http://example.com/a.png", "banner"), ("  ", "avatar")])
def test_invalid_input(url, kind):
    with pytest.raises(ValidationFailed):
        image_asset_store(source_url=url, kind=kind)
    assert not ImageAsset.objects.exists()
