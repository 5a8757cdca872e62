"""Source safety: refused schemes and addresses, redirects checked hop by hop, local roots."""

import os

import pytest

from cdn import download
from cdn.download import download_image, is_public_address
from cdn.errors import PermanentImageError
from cdn.models import ImageAsset
from cdn.services import image_asset_store
from tests.cdn.conftest import Reply, png_bytes

pytestmark = pytest.mark.usefixtures("cdn_settings")


@pytest.fixture
def strict(settings):
    settings.CDN_ALLOW_PRIVATE_SOURCES = False
    return settings


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (cloud metadata)
        "2002:0a00:0001::1",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo with a non-public client
        "2001:0:7f00:1::8000:f5fe",  # Teredo with server 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "::",
        "not-an-ip",
    ],
)
def test_non_public_addresses(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "157.240.1.35", "2a03:2880:f003:c07:face:b00c::2", "2002:5db8:d822::1", "::ffff:8.8.8.8"],
)
def test_public_addresses(address):
    assert is_public_address(address)


@pytest.mark.django_db
def test_private_hosts_are_refused_without_a_request(strict, image_host):
    image_host.route("/a.png", Reply(body=png_bytes(10, 10)))
    port = image_host.port
    urls = [
        f"http://127.0.0.1:{port}/a.png",
        f"http://localhost:{port}/a.png",
        f"http://[::1]:{port}/a.png",
        f"http://[::ffff:127.0.0.1]:{port}/a.png",
        "http://10.0.0.7/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/a.png",
    ]
    for url in urls:
        asset = image_asset_store(source_url=url, kind="thumbnail")
        assert asset.status == ImageAsset.Status.FAILED, url
        assert asset.last_error.startswith("permanent:refused_address"), (url, asset.last_error)
    assert image_host.hits["/a.png"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/a.png", "refused_scheme"),
        ("gopher://example.com/a.png", "refused_scheme"),
        ("file:///etc/passwd", "refused_path"),
        ("file://otherhost/etc/passwd", "refused_scheme"),
        ("data:image/png;base64,iVBORw0KGgo=", "refused_scheme"),
        ("http:///no-host.png", "bad_url"),
    ],
)
def test_other_schemes_and_paths_are_refused(strict, url, code):
    asset = image_asset_store(source_url=url, kind="thumbnail")

    assert asset.status == ImageAsset.Status.FAILED
    assert asset.last_error.startswith(f"permanent:{code}"), asset.last_error


def test_redirects_are_checked_at_every_hop(strict, image_host, monkeypatch):
    # Pretend 127.0.0.1 is a public host so the first hop is fetched; its redirect to
    # "localhost" (which resolves to loopback) must then be refused before any request.
    real_resolve = download.resolve_addresses

    def fake_resolve(host, port):
        return ["93.184.216.34"] if host == "127.0.0.1" else real_resolve(host, port)

    monkeypatch.setattr(download, "resolve_addresses", fake_resolve)
    image_host.route("/target.png", Reply(body=png_bytes(10, 10)))
    url = image_host.route(
        "/redirect", Reply(status=302, headers={"Location": f"http://localhost:{image_host.port}/target.png"})
    )

    with pytest.raises(PermanentImageError) as excinfo:
        download_image(url)

    assert excinfo.value.code == "refused_address"
    assert image_host.hits["/redirect"] == 1
    assert image_host.hits["/target.png"] == 0


def test_redirects_are_followed_up_to_three_hops(image_host):
    body = png_bytes(10, 10)
    image_host.route("/final.png", Reply(body=body))
    image_host.route("/r3", Reply(status=301, headers={"Location": "/final.png"}))
    image_host.route("/r2", Reply(status=307, headers={"Location": "/r3"}))
    three = image_host.route("/r1", Reply(status=302, headers={"Location": image_host.url("/r2")}))
    four = image_host.route("/r0", Reply(status=302, headers={"Location": "/r1"}))

    downloaded = download_image(three)
    assert downloaded.content == body
    assert downloaded.final_url == image_host.url("/final.png")

    with pytest.raises(PermanentImageError) as excinfo:
        download_image(four)
    assert excinfo.value.code == "too_many_redirects"


def test_redirect_to_a_local_file_is_refused(image_host, tmp_path):
    inside = tmp_path / "dataset" / "x.png"
    inside.write_bytes(png_bytes(10, 10))
    url = image_host.route("/to-file", Reply(status=302, headers={"Location": inside.as_uri()}))

    with pytest.raises(PermanentImageError) as excinfo:
        download_image(url)
    assert excinfo.value.code == "refused_scheme"


def test_local_files_must_really_be_inside_a_root(strict, tmp_path):
    root = tmp_path / "dataset"
    outside = tmp_path / "secret.png"
    outside.write_bytes(png_bytes(10, 10))
    inside = root / "ok.png"
    inside.write_bytes(png_bytes(10, 10))
    link = root / "link.png"
    os.symlink(outside, link)

    assert download_image(inside.as_uri()).content == inside.read_bytes()
    for url in (outside.as_uri(), link.as_uri(), f"file://{root}/../secret.png"):
        with pytest.raises(PermanentImageError) as excinfo:
            download_image(url)
        assert excinfo.value.code == "refused_path", url


def test_missing_local_file(tmp_path):
    with pytest.raises(PermanentImageError) as excinfo:
        download_image((tmp_path / "dataset" / "nope.png").as_uri())
    assert excinfo.value.code == "missing_file"


def test_oversize_local_file(settings, tmp_path):
    settings.CDN_MAX_BYTES = 100
    path = tmp_path / "dataset" / "big.png"
    path.write_bytes(png_bytes(200, 200) + b"\x00" * 200)

    with pytest.raises(PermanentImageError) as excinfo:
        download_image(path.as_uri())
    assert excinfo.value.code == "too_large"
