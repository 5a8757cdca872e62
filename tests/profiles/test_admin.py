"""The ProviderCall admin: list, filters and the cost per day and per creator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from profiles.models import ProviderCall

pytestmark = pytest.mark.django_db


def _call(username: str, day: int, cost: str, status: str = "ok") -> None:
    call = ProviderCall.objects.create(provider="apify", username=username, status=status, cost_cents=Decimal(cost))
    ProviderCall.objects.filter(pk=call.pk).update(created_at=datetime(2024, 11, day, 10, tzinfo=UTC))


@pytest.fixture
def admin_client(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_changelist_shows_cost_per_day_and_creator(admin_client):
    _call("humansofny", 1, "0.26")
    _call("humansofny", 1, "0.26", status="transient")
    _call("nasa", 2, "0.26")
    response = admin_client.get(reverse("admin:profiles_providercall_changelist"))
    assert response.status_code == 200
    per_day = {
        row["day"].isoformat(): (row["calls"], row["errors"], row["cost"]) for row in response.context["cost_per_day"]
    }
    assert per_day == {"2024-11-01": (2, 1, Decimal("0.52")), "2024-11-02": (1, 0, Decimal("0.26"))}
    per_creator = [(row["username"], row["calls"], row["cost"]) for row in response.context["cost_per_creator"]]
    assert per_creator == [("humansofny", 2, Decimal("0.52")), ("nasa", 1, Decimal("0.26"))]
    html = response.content.decode()
    assert "Cost per day" in html and "Cost per creator" in html and "@humansofny" in html


def test_summary_follows_the_filters(admin_client):
    _call("humansofny", 1, "0.26")
    _call("nasa", 2, "0.26", status="not_found")
    url = reverse("admin:profiles_providercall_changelist")
    response = admin_client.get(url, {"status__exact": "not_found"})
    assert [row["username"] for row in response.context["cost_per_creator"]] == ["nasa"]
    response = admin_client.get(url, {"created_at__year": "2024", "created_at__month": "11", "created_at__day": "1"})
    assert response.status_code == 200
    assert response.context["cost_total"]["calls"] == 1


def test_rows_are_read_only(admin_client):
    _call("humansofny", 1, "0.26")
    call = ProviderCall.objects.get()
    assert admin_client.get(reverse("admin:profiles_providercall_add")).status_code == 403
    response = admin_client.post(reverse("admin:profiles_providercall_change", args=[call.pk]), {"username": "x"})
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.username == "humansofny"


def _complete_creator(django_capture_on_commit_callbacks):
    from analysis import services as analysis_services

    with django_capture_on_commit_callbacks(execute=True):
        job, _ = analysis_services.job_start(username="humansofny")
    job.refresh_from_db()
    assert job.status == "completed", job.error_detail
    return job.profile


def test_profile_changelist_shows_and_filters_completeness(
    admin_client, pipeline_settings, django_capture_on_commit_callbacks
):
    from profiles.models import Profile

    complete = _complete_creator(django_capture_on_commit_callbacks)
    Profile.objects.create(username="half_done", followers_count=10, posts_count=3)
    url = reverse("admin:profiles_profile_changelist")
    page = admin_client.get(url).content.decode()
    assert "missing: biography, posts_stored" in page and ">complete<" in page
    only_complete = admin_client.get(url, {"complete": "yes"}).content.decode()
    assert complete.username in only_complete and "half_done" not in only_complete
    only_incomplete = admin_client.get(url, {"complete": "no"}).content.decode()
    assert "half_done" in only_incomplete and "humansofny" not in only_incomplete
    detail = admin_client.get(reverse("admin:profiles_profile_change", args=[complete.pk]))
    assert detail.status_code == 200 and b"posts stored 12 / analysed 12 / with thumbnails 12" in detail.content
    assert detail.content.count(b'<img src="https://cdn.example.test/') == 13  # the avatar and 12 posts


def test_profile_repair_action_queues_only_the_missing_steps(
    admin_client, pipeline_settings, django_capture_on_commit_callbacks
):
    from analysis.models import AnalysisJob
    from profiles.models import Post

    profile = _complete_creator(django_capture_on_commit_callbacks)
    Post.objects.filter(profile=profile).update(ai_analyzed_at=None, ai_content_category="")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:profiles_profile_changelist"),
            {"action": "repair_selected", "_selected_action": [str(profile.pk)]},
            follow=True,
        )
    assert b"Queued 1 repair job(s)" in response.content
    job = AnalysisJob.objects.order_by("-created_at").first()
    assert job.steps == ["ai"] and job.status == "completed"
    assert Post.objects.filter(profile=profile, ai_analyzed_at__isnull=False).count() == 12
