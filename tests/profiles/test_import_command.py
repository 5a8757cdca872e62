"""manage.py import_apify_dataset: both export shapes, idempotent, a summary."""

from __future__ import annotations

import io
import json
import os
import shutil
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from profiles.models import Post, Profile, ProfileSnapshot, RelatedProfile
from tests.profiles.conftest import SAMPLE_DIR

pytestmark = pytest.mark.django_db


def _rows() -> dict:
    return {
        "profiles": list(Profile.objects.values_list("id", "username", "followers_count", "last_scraped_at")),
        "posts": sorted(Post.objects.values_list("id", "instagram_post_id", "likes_count", "display_url")),
        "related": sorted(RelatedProfile.objects.values_list("id", "username", "position")),
        "snapshots": list(ProfileSnapshot.objects.values_list("id", "captured_at", "followers_count")),
    }


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_apify_dataset", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_twice_leaves_the_same_rows(tmp_path):
    export = tmp_path / "humansofny-details.json"
    shutil.copy(SAMPLE_DIR / "humansofny-details.json", export)
    out, err = _run(export)
    assert "profiles: 1 created, 0 updated" in out
    assert "posts: 12 created, 0 updated" in out
    assert "related profiles: 80" in out
    assert "snapshots: 1 created" in out
    assert "errors: 0" in out
    assert "1/1" in err  # the progress bar
    first = _rows()
    assert (len(first["profiles"]), len(first["posts"]), len(first["related"]), len(first["snapshots"])) == (
        1,
        12,
        80,
        1,
    )
    # The snapshot is taken at the export's own time: the file's modification time.
    mtime = datetime.fromtimestamp(export.stat().st_mtime, tz=UTC)
    assert first["snapshots"][0][1] == mtime

    out, _ = _run(export)
    assert "profiles: 0 created, 1 updated" in out and "snapshots: 0 created" in out
    assert _rows() == first


def test_relative_images_become_file_uris(tmp_path):
    export = tmp_path / "hony.json"
    shutil.copy(SAMPLE_DIR / "humansofny-details.json", export)
    _run(export)
    post = Post.objects.get(shortcode="C_LkoqlO6uE")
    assert post.display_url == (tmp_path / "images" / "C_LkoqlO6uE.jpg").resolve().as_uri()


def test_posts_export_then_details(tmp_path, real_export):
    posts_file = tmp_path / "posts.json"
    posts_file.write_text(json.dumps(real_export[0]["latestPosts"]))
    details_file = tmp_path / "details.json"
    details = real_export[0]
    details["latestPosts"] = details["latestPosts"][:4]
    details_file.write_text(json.dumps([details]))
    os.utime(posts_file, (1_700_000_000, 1_700_000_000))
    os.utime(details_file, (1_700_000_100, 1_700_000_100))

    out, _ = _run(posts_file, details_file)
    assert "posts: 12 created, 4 updated" in out
    profile = Profile.objects.get()
    assert profile.followers_count == 12765763 and profile.posts.count() == 12
    assert profile.related_profiles.count() == 80 and profile.snapshots.count() == 1
    before = _rows()
    _run(posts_file, details_file)
    assert _rows() == before


def test_captured_at_option_and_errors(tmp_path, real_export):
    export = tmp_path / "mixed.json"
    export.write_text(json.dumps([real_export[0], {"username": "bad name"}, {"error": "not_found", "url": "x"}]))
    out, _ = _run(export, "--captured-at", "2024-11-01T12:00:00Z")
    assert "errors: 2" in out
    assert ProfileSnapshot.objects.get().captured_at == datetime(2024, 11, 1, 12, tzinfo=UTC)
    with pytest.raises(CommandError):
        _run(export, "--captured-at", "yesterday")
    with pytest.raises(CommandError):
        _run(tmp_path / "missing.json")
