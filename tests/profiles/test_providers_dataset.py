"""The dataset provider: exports in a directory, both shapes, local images, recording."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from profiles.models import ProviderCall
from profiles.providers import get_provider
from profiles.providers.base import ProfileNotFound, ProfilePrivate
from profiles.providers.dataset import DatasetProvider
from tests.profiles.conftest import SAMPLE_DIR


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_real_export(tmp_path, real_export):
    _write(tmp_path / "hony.json", real_export)
    profile = DatasetProvider(tmp_path).fetch("HumansOfNY")
    assert profile.username == "humansofny"
    assert len(profile.posts) == 12 and len(profile.related) == 80
    assert profile.followers_count == 12765763


def test_unknown_username_and_invalid_input(tmp_path, real_export):
    _write(tmp_path / "hony.json", real_export)
    for name in ("someone_else", "not valid!", ""):
        with pytest.raises(ProfileNotFound):
            DatasetProvider(tmp_path).fetch(name)
    with pytest.raises(ProfileNotFound):
        DatasetProvider(tmp_path / "missing-dir").fetch("humansofny")


def test_bundled_sample_dataset_has_local_images(settings):
    settings.SCRAPER_DATASET_DIR = SAMPLE_DIR
    profile = DatasetProvider().fetch("humansofny")
    urls = [
        profile.profile_pic_url,
        *(p.display_url for p in profile.posts),
        *(r.profile_pic_url for r in profile.related),
    ]
    urls += [url for post in profile.posts for url in post.child_display_urls]
    assert len(urls) == 1 + 12 + 80 + 11
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "file"
        path = Path(parts.path)
        assert path.is_file() and path.is_relative_to(SAMPLE_DIR)
    # The CDN accepts these only inside CDN_LOCAL_SOURCE_ROOTS, which defaults to the dataset dir.
    assert any(SAMPLE_DIR.resolve() == Path(root).resolve() for root in settings.CDN_LOCAL_SOURCE_ROOTS)
    # Everything but the images is exactly the real export's.
    assert (len(profile.posts), len(profile.related), profile.posts_count) == (12, 80, 5715)


def test_relative_images_resolve_against_the_export(tmp_path, real_export):
    nested = tmp_path / "exports"
    nested.mkdir()
    real_export[0]["latestPosts"][0]["displayUrl"] = "img/post.jpg"
    _write(nested / "hony.json", real_export)
    profile = DatasetProvider(nested).fetch("humansofny")
    assert profile.posts[0].display_url == (nested / "img" / "post.jpg").resolve().as_uri()


def test_posts_export_merges_into_details(tmp_path, real_export):
    details = real_export[0]
    posts = details["latestPosts"]
    details["latestPosts"] = posts[:2]
    _write(tmp_path / "a-details.json", [details])
    _write(tmp_path / "b-posts.json", posts)
    profile = DatasetProvider(tmp_path).fetch("humansofny")
    assert profile.partial is False
    assert profile.followers_count == 12765763 and len(profile.related) == 80
    assert len(profile.posts) == 12


def test_posts_export_alone(tmp_path, real_export):
    posts = real_export[0]["latestPosts"]
    for post in posts:
        post.pop("ownerId")
    _write(tmp_path / "posts.json", posts)
    profile = DatasetProvider(tmp_path).fetch("humansofny")
    assert profile.partial is True and len(profile.posts) == 12
    assert (profile.instagram_id, profile.biography, profile.followers_count) == ("", "", 0)


def test_index_follows_file_changes(tmp_path, real_export):
    path = _write(tmp_path / "hony.json", real_export)
    assert DatasetProvider(tmp_path).fetch("humansofny").followers_count == 12765763
    real_export[0]["followersCount"] = 1
    _write(path, real_export)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert DatasetProvider(tmp_path).fetch("humansofny").followers_count == 1
    path.unlink()
    with pytest.raises(ProfileNotFound):
        DatasetProvider(tmp_path).fetch("humansofny")


def test_broken_files_are_skipped(tmp_path, real_export):
    (tmp_path / "broken.json").write_text("{not json")
    _write(tmp_path / "other.json", {"unexpected": "shape"})
    _write(tmp_path / "hony.json", real_export)
    assert DatasetProvider(tmp_path).fetch("humansofny").username == "humansofny"


def test_private_profile_without_posts(tmp_path, real_export):
    real_export[0].update(private=True, latestPosts=[])
    _write(tmp_path / "hony.json", real_export)
    with pytest.raises(ProfilePrivate):
        DatasetProvider(tmp_path).fetch("humansofny")


@pytest.mark.django_db
def test_get_provider_records_every_call(settings, tmp_path):
    shutil.copy(SAMPLE_DIR / "humansofny-details.json", tmp_path / "hony.json")
    settings.SCRAPER_PROVIDER = "dataset"
    settings.SCRAPER_DATASET_DIR = tmp_path
    provider = get_provider()
    assert provider.name == "dataset"
    provider.fetch("humansofny")
    with pytest.raises(ProfileNotFound):
        provider.fetch("unknown_one")
    calls = list(
        ProviderCall.objects.order_by("created_at", "id").values_list(
            "provider", "username", "status", "results_returned"
        )
    )
    assert calls == [("dataset", "humansofny", "ok", 1), ("dataset", "unknown_one", "not_found", 0)]
    assert all(float(c.cost_cents) == 0 for c in ProviderCall.objects.all())


def test_unknown_provider_setting(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SCRAPER_PROVIDER = "nope"
    with pytest.raises(ImproperlyConfigured):
        get_provider()


@pytest.mark.django_db
def test_unexpected_errors_are_recorded_as_errors():
    from profiles.providers.recording import RecordedProvider

    class Broken:
        name = "dataset"

        def fetch(self, username, *, call=None):
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        RecordedProvider(Broken()).fetch("humansofny")
    call = ProviderCall.objects.get()
    assert call.status == "provider_error" and "disk on fire" in call.error_detail
