"""``load_sample_creators``: what `make run` uses to show complete creators offline."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from analysis.models import AnalysisJob
from profiles.models import Profile
from profiles.selectors.completeness import profile_completeness

# Committed transactions, as under `make run`: each pipeline step runs when the previous commits.
pytestmark = pytest.mark.django_db(transaction=True)


def _run(**options) -> str:
    out = io.StringIO()
    call_command("load_sample_creators", stdout=out, **options)
    return out.getvalue()


def test_loads_every_creator_with_posts_then_skips_them(pipeline_settings):
    output = _run()
    assert "@humansofny: completed" in output and "1 completed" in output
    profile = Profile.objects.get(username="humansofny")
    assert profile_completeness(profile=profile).is_complete
    # the 80 related profiles are stubs without posts: stored as related, never analysed
    assert profile.related_profiles.count() == 80 and Profile.objects.count() == 1

    again = _run()
    assert "already complete" in again and "1 skipped" in again
    assert AnalysisJob.objects.count() == 1


def test_other_providers_have_no_sample_creators(pipeline_settings):
    pipeline_settings.SCRAPER_PROVIDER = "apify"
    assert "no sample creators" in _run()
    assert not AnalysisJob.objects.exists()
