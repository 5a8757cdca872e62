"""The ImageAsset admin: previews, filters, search and the forced retry action."""

import pytest
from django.test import Client
from django.urls import reverse

from cdn.models import ImageAsset
from cdn.services import image_asset_store
from tests.cdn.conftest import Reply, png_bytes
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cdn_settings")]


@pytest.fixture
def admin_client_():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_changelist_shows_previews_and_filters(admin_client_, image_host):
    ready = image_asset_store(source_url=image_host.route("/ok.png", Reply(body=png_bytes(80, 80))), kind="avatar")
    image_asset_store(source_url=image_host.route("/bad", Reply(status=404, content_type="text/plain")), kind="avatar")
    url = reverse("admin:cdn_imageasset_changelist")

    response = admin_client_.get(url)
    assert response.status_code == 200
    assert f'<img src="{ready.public_url}"'.encode() in response.content

    failed_only = admin_client_.get(url, {"status__exact": "failed"})
    assert failed_only.context["cl"].result_count == 1

    by_hash = admin_client_.get(url, {"q": ready.content_sha256})
    assert list(by_hash.context["cl"].result_list) == [ready]


def test_change_page_is_read_only(admin_client_, image_host):
    asset = image_asset_store(source_url=image_host.route("/ro.png", Reply(body=png_bytes(30, 30))), kind="avatar")

    response = admin_client_.get(reverse("admin:cdn_imageasset_change", args=[asset.pk]))

    assert response.status_code == 200
    assert b'name="public_url"' not in response.content
    assert f'<img src="{asset.public_url}"'.encode() in response.content


def test_retry_failed_action_forces_a_new_attempt(admin_client_, image_host):
    url = image_host.route("/later.png", Reply(body=b"<html>", content_type="text/html"), Reply(body=png_bytes(50, 50)))
    asset = image_asset_store(source_url=url, kind="thumbnail")
    assert asset.error_category == ImageAsset.ErrorCategory.PERMANENT

    response = admin_client_.post(
        reverse("admin:cdn_imageasset_changelist"),
        {"action": "retry_failed", "_selected_action": [str(asset.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    asset.refresh_from_db()
    assert asset.status == ImageAsset.Status.READY and asset.attempts == 2
    assert b"1 asset(s) ready, 0 still failing." in response.content
