"""``analyze_profile`` and ``repair_profile_completeness`` on committed transactions, as from a shell."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from analysis.models import AnalysisJob
from profiles.models import Post, Profile
from profiles.selectors.completeness import profile_completeness
from tests.pipeline_fixtures import REAL_EXPORT

pytestmark = pytest.mark.django_db(transaction=True)


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _second_creator(dataset_dir, image_base: str) -> None:
    """The real export under another name and ids: a second creator for the same dataset."""
    text = REAL_EXPORT.read_text(encoding="utf-8")
    data = json.loads(text.replace("https://scontent", image_base + "x-scontent"))
    profile = data[0]
    profile["username"], profile["id"] = "humansofny_copy", "900000000001"
    for index, post in enumerate(profile["latestPosts"]):
        post["id"], post["shortCode"] = f"9000000000{index:02d}", f"COPY{index:02d}"
        post["ownerUsername"] = "humansofny_copy"
    (dataset_dir / "copy-details.json").write_text(json.dumps(data), encoding="utf-8")


def test_analyze_profile_wait_ends_completed(pipeline_settings):
    output = _run("analyze_profile", "humansofny", "--wait")
    assert "completed" in output.splitlines()[-1]
    assert "scraping" in output and "analysing" in output
    assert profile_completeness(profile=Profile.objects.get(username="humansofny")).is_complete


def test_analyze_profile_unknown_creator_fails_with_the_reason(pipeline_settings):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not_found"):
        _run("analyze_profile", "no_such_creator_z", "--wait")


def test_scan_lists_exactly_the_incomplete_profiles_and_repair_completes_them(pipeline_settings, image_host):
    _run("analyze_profile", "humansofny")
    _second_creator(pipeline_settings.SCRAPER_DATASET_DIR, image_host.base)
    _run("analyze_profile", "humansofny_copy")
    copy = Profile.objects.get(username="humansofny_copy")
    assert profile_completeness(profile=copy).is_complete
    # Break each in its own way: one loses its AI results, the other its thumbnails.
    Post.objects.filter(profile__username="humansofny").update(ai_analyzed_at=None)
    three = list(Post.objects.filter(profile=copy).values_list("pk", flat=True)[:3])
    Post.objects.filter(pk__in=three).update(cdn_thumbnail_url="")
    Profile.objects.create(username="never_scraped")  # no counts: incomplete too

    scan = _run("repair_profile_completeness", "--scan-only")
    listed = [line.split()[0] for line in scan.splitlines()[2:] if line and not line[0].isdigit()]
    assert sorted(listed) == ["humansofny", "humansofny_copy", "never_scraped"]
    assert "posts_analysed -> ai" in scan and "posts_thumbnails -> media" in scan
    assert "3 incomplete profile(s)." in scan
    assert AnalysisJob.objects.count() == 2  # scanning queues nothing

    dry = _run("repair_profile_completeness", "--dry-run", "--username-filter", "humansofny*")
    assert "2 incomplete profile(s)." in dry and "never_scraped" not in dry

    repaired = _run("repair_profile_completeness", "--repair", "--username-filter", "humansofny*")
    assert "Complete now: 2/2" in repaired
    steps = {job.username: job.steps for job in AnalysisJob.objects.filter(trigger=AnalysisJob.Trigger.REPAIR)}
    assert steps == {"humansofny": ["ai"], "humansofny_copy": ["media"]}
    assert "All profiles are complete." in _run("repair_profile_completeness", "--scan-only", "--username-filter", "h*")
