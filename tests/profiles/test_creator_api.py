"""The creator API against the real export analysed by the pipeline."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from analysis import services as analysis_services
from analysis.models import AnalysisJob
from profiles.api import serializers as s
from profiles.models import Export, Profile, TeamProfileAccess
from profiles.services.access import access_grant
from tests.factories import UserFactory, account_of, team_of

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search/creator/{}"
UNLOCK = "/api/v1/search/creator/{}/unlock"


@pytest.fixture
def creator(pipeline_settings, django_capture_on_commit_callbacks) -> Profile:
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = analysis_services.job_start(username="humansofny")
    job.refresh_from_db()
    assert job.status == "completed", job.result
    return Profile.objects.get(username="humansofny")


@pytest.fixture
def unlocked(creator, user) -> Profile:
    access_grant(team=team_of(user), profile=creator)
    return creator


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["details"], dict)
    return body["error"]


def test_unknown_creator_is_404_saying_how_to_request_it(api_client, pipeline_settings):
    error = _error(api_client.get(SEARCH.format("nobody.here")), 404, "creator_not_found")
    assert error["details"]["unlock_url"] == UNLOCK.format("nobody.here")
    assert "POST" in error["message"]


def test_invalid_username_is_400(api_client):
    error = _error(api_client.get(SEARCH.format("bad%20name!")), 400, "invalid_username")
    assert error["details"]


def test_locked_preview_without_access(api_client, creator):
    response = api_client.get(SEARCH.format("HumansOfNY"))
    assert response.status_code == 200
    body = response.json()
    assert body["locked"] is True
    assert set(body) == {"username", "locked", "preview", "unlock"}
    assert body["preview"] == {
        "username": "humansofny",
        "full_name": "Humans of New York",
        "avatar_url": creator.cdn_avatar_url,
        "followers_count": 12765763,
        "posts_count": 5715,
        "is_verified": True,
        "category": creator.category or creator.ai_primary_content_type,
    }
    assert body["unlock"]["price_credits"] == 25
    assert body["unlock"]["would_pay_with"] == "plan_quota"  # Free plan: 5 unlocks a month


def test_full_report_after_unlock(api_client, creator):
    assert api_client.get(SEARCH.format("humansofny")).json()["locked"] is True  # "no access" now cached
    response = api_client.post(UNLOCK.format("humansofny"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["credits"]["charged"] == 0 and body["credits"]["buckets"] == ["plan_quota"]
    row = TeamProfileAccess.objects.get(team=team_of(api_client.user), profile=creator)
    # The unlock's own answer shows the access it granted (it said null before).
    assert body["access"] is not None and body["access"]["via"] == row.granted_via
    assert body["access"]["expires_at"].startswith(row.expires_at.date().isoformat())

    body = api_client.get(SEARCH.format("humansofny")).json()
    assert body["locked"] is False and body["job"] is None
    report = body["report"]
    assert list(report) == ["overview", "audience", "engagement", "content", "posts"]
    serializer = s.ReportSerializer(data=report)
    assert serializer.is_valid(), serializer.errors
    # By hand from the export: median of (likes + comments) over the 12 posts is
    # (103,788 + 112,763) / 2 = 108,275.5; / 12,765,763 followers x 100 = 0.8482 %.
    assert report["engagement"]["engagement_rate"] == 0.8482
    assert report["overview"]["completeness"]["is_complete"] is True
    assert len(report["posts"]) == 12
    assert all(p["thumbnail_url"].startswith("https://cdn.example.test/") for p in report["posts"])
    assert report["audience"]["demographics"] is None and report["audience"]["demographics_reason"]
    assert len(report["audience"]["followers_history"]) == 1
    assert 0 <= report["audience"]["quality"]["score"] <= 100
    assert report["content"]["primary_category"] == creator.ai_primary_content_type


def test_second_unlock_costs_nothing(api_client, unlocked):
    body = api_client.post(UNLOCK.format("humansofny")).json()
    assert body["credits"]["skipped"] is True and body["credits"]["charged"] == 0


def test_cached_report_needs_no_report_queries(api_client, unlocked, django_assert_max_num_queries):
    api_client.get(SEARCH.format("humansofny"))  # warms the cache
    with django_assert_max_num_queries(1):  # authentication aside, nothing touches the database
        response = api_client.get(SEARCH.format("humansofny"))
    assert response.status_code == 200 and response.json()["report"]["posts"]


def test_report_is_rebuilt_after_a_new_run(api_client, unlocked, django_capture_on_commit_callbacks):
    api_client.get(SEARCH.format("humansofny"))
    Profile.objects.filter(pk=unlocked.pk).update(full_name="Changed behind the cache")
    assert api_client.get(SEARCH.format("humansofny")).json()["report"]["overview"]["full_name"] != (
        "Changed behind the cache"
    )
    with django_capture_on_commit_callbacks(execute=True):
        analysis_services.job_start(username="humansofny", steps=["ai"])
    # the job's end invalidates the cache; the scrape was skipped so the DB change shows
    assert api_client.get(SEARCH.format("humansofny")).json()["report"]["overview"]["full_name"] == (
        "Changed behind the cache"
    )


def test_unlock_of_a_missing_creator_starts_a_job_and_streams_it(
    api_client, pipeline_settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(UNLOCK.format("humansofny"))
    assert response.status_code == 202, response.content
    assert response.json()["access"] is not None and response.json()["access"]["expires_at"]
    job_id = response.json()["job"]["id"]
    assert response.json()["job"]["status"] == "queued"

    # A second request while the job runs joins it.
    again = api_client.post(UNLOCK.format("humansofny"))
    assert again.status_code == 202 and again.json()["job"]["id"] == job_id
    assert again.json()["credits"]["skipped"] is True
    assert AnalysisJob.objects.count() == 1

    # The pipeline's steps chain through on_commit: run the first one and all it queues.
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    stream = api_client.get(f"/api/v1/analysis/jobs/{job_id}/events", HTTP_ACCEPT="text/event-stream")
    assert stream.status_code == 200 and stream["Content-Type"].startswith("text/event-stream")
    text = b"".join(stream.streaming_content).decode()
    events = [block for block in text.split("\n\n") if block.startswith("id:") or block.startswith("event:")]
    statuses = [json.loads(b.split("data: ", 1)[1])["status"] for b in events if "event: progress" in b]
    assert statuses[0] == "queued" and statuses[-1] == "completed"
    assert {"scraping", "storing_media", "analysing"} <= set(statuses)
    assert "event: end" in events[-1]
    progress = [b for b in events if "event: progress" in b]
    assert "T" in json.loads(progress[0].split("data: ", 1)[1])["at"]  # ISO 8601 times

    # A client that reconnects with Last-Event-ID gets only what it has not seen.
    seen = int(progress[1].split("\n", 1)[0].removeprefix("id: "))
    resumed = api_client.get(
        f"/api/v1/analysis/jobs/{job_id}/events", HTTP_ACCEPT="text/event-stream", HTTP_LAST_EVENT_ID=str(seen)
    )
    rest = [b for b in b"".join(resumed.streaming_content).decode().split("\n\n") if "event: progress" in b]
    assert len(rest) == len(progress) - 2
    assert all(int(b.split("\n", 1)[0].removeprefix("id: ")) > seen for b in rest)

    job = api_client.get(f"/api/v1/analysis/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["progress"] == 100 and job["error"] is None
    assert job["timings"]["scrape"]["seconds"] is not None

    report = api_client.get(SEARCH.format("humansofny")).json()
    assert report["locked"] is False and len(report["report"]["posts"]) == 12


def test_jobs_are_private(api_client, other_client, staff_client, pipeline_settings):
    job, _ = analysis_services.job_start(
        username="humansofny", requested_by=api_client.user, team=team_of(api_client.user)
    )
    assert api_client.get(f"/api/v1/analysis/jobs/{job.pk}").status_code == 200
    _error(other_client.get(f"/api/v1/analysis/jobs/{job.pk}"), 404, "job_not_found")
    _error(other_client.get(f"/api/v1/analysis/jobs/{job.pk}/events"), 404, "job_not_found")
    assert staff_client.get(f"/api/v1/analysis/jobs/{job.pk}").status_code == 200


def test_profile_endpoints_need_access(api_client, other_client, staff_client, unlocked):
    for path in ("/api/v1/profiles/humansofny", "/api/v1/profiles/humansofny/posts",
                 "/api/v1/profiles/humansofny/related"):  # fmt: skip
        assert api_client.get(path).status_code == 200, path
        assert staff_client.get(path).status_code == 200, path
        _error(other_client.get(path), 403, "creator_locked")
        _error(other_client.get(path.replace("humansofny", "nobody")), 404, "creator_not_found")


def test_profile_report_has_no_posts(api_client, unlocked):
    body = api_client.get("/api/v1/profiles/humansofny").json()
    assert list(body["report"]) == ["overview", "audience", "engagement", "content"]
    assert body["access"]["expires_at"]


def test_posts_paginate_filter_and_order(api_client, unlocked):
    page = api_client.get("/api/v1/profiles/humansofny/posts?page_size=5").json()
    assert page["count"] == 12 and len(page["results"]) == 5 and page["next"]
    dates = [p["posted_at"] for p in api_client.get("/api/v1/profiles/humansofny/posts").json()["results"]]
    assert dates == sorted(dates, reverse=True)

    by_likes = api_client.get("/api/v1/profiles/humansofny/posts?ordering=-likes").json()["results"]
    likes = [p["likes_count"] for p in by_likes]
    assert likes == sorted(likes, reverse=True)
    by_engagement = api_client.get("/api/v1/profiles/humansofny/posts?ordering=engagement").json()["results"]
    engagement = [p["likes_count"] + p["comments_count"] for p in by_engagement]
    assert engagement == sorted(engagement)

    category = unlocked.posts.first().ai_content_category
    filtered = api_client.get(f"/api/v1/profiles/humansofny/posts?category={category}").json()
    assert filtered["count"] == unlocked.posts.filter(ai_content_category=category).count()
    assert all(p["ai"]["category"] == category for p in filtered["results"])
    videos = api_client.get("/api/v1/profiles/humansofny/posts?type=video").json()
    assert videos["count"] == unlocked.posts.filter(type="video").count()
    dated = api_client.get("/api/v1/profiles/humansofny/posts?posted_after=2100-01-01T00:00:00Z").json()
    assert dated["count"] == 0

    _error(api_client.get("/api/v1/profiles/humansofny/posts?ordering=nonsense"), 400, "invalid")
    _error(api_client.get("/api/v1/profiles/humansofny/posts?sentiment=angry"), 400, "invalid")


def test_related_profiles(api_client, unlocked):
    body = api_client.get("/api/v1/profiles/humansofny/related?page_size=100").json()
    assert body["count"] == 80
    assert body["results"][0]["username"] == "npr" and body["results"][0]["analysed"] is False


def test_unlocked_list_is_only_mine(api_client, other_client, unlocked):
    mine = api_client.get("/api/v1/profiles/unlocked").json()
    assert [row["username"] for row in mine["results"]] == ["humansofny"]
    assert other_client.get("/api/v1/profiles/unlocked").json()["count"] == 0


def test_expired_access_is_locked_again(api_client, unlocked):
    from datetime import timedelta

    from django.utils import timezone

    TeamProfileAccess.objects.filter(team=team_of(api_client.user)).update(
        granted_at=timezone.now() - timedelta(days=31), expires_at=timezone.now() - timedelta(days=1)
    )
    from django.core.cache import cache

    cache.clear()
    assert api_client.get(SEARCH.format("humansofny")).json()["locked"] is True


# --- exports -------------------------------------------------------------------------------


@pytest.fixture
def paid(user, other_user):
    from credits.services import wallet_set_plan

    for someone in (user, other_user):
        wallet_set_plan(account_id=account_of(someone), plan_code="standard")


def test_exports_are_for_paid_plans(api_client, unlocked):
    error = _error(
        api_client.post("/api/v1/exports", {"usernames": ["humansofny"], "format": "csv"}, format="json"),
        403,
        "paid_plan_required",
    )
    assert error["details"] == {"plan": "free"}


def test_export_csv_json_xlsx(api_client, unlocked, paid):
    response = api_client.post("/api/v1/exports", {"usernames": ["humansofny"], "format": "csv"}, format="json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["username"] == "humansofny" and rows[0]["engagement_rate"] == "0.8482"

    posts_csv = api_client.post(
        "/api/v1/exports", {"usernames": ["humansofny"], "format": "csv", "include_posts": True}, format="json"
    )
    assert len(list(csv.DictReader(io.StringIO(posts_csv.content.decode("utf-8-sig"))))) == 12

    data = api_client.post(
        "/api/v1/exports", {"usernames": ["humansofny"], "format": "json", "include_posts": True}, format="json"
    )
    body = json.loads(data.content)
    assert body["profiles"][0]["followers_count"] == 12765763 and len(body["posts"]) == 12

    xlsx = api_client.post(
        "/api/v1/exports", {"usernames": ["humansofny"], "format": "xlsx", "include_posts": True}, format="json"
    )
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == ["Profiles", "Posts"]
    assert workbook["Profiles"]["A1"].value == "username" and workbook["Profiles"]["A2"].value == "humansofny"
    assert workbook["Posts"].max_row == 13


def test_export_refuses_creators_not_unlocked(api_client, other_client, unlocked, paid):
    error = _error(
        other_client.post("/api/v1/exports", {"usernames": ["humansofny"], "format": "csv"}, format="json"),
        400,
        "creators_not_accessible",
    )
    assert error["details"]["usernames"] == ["humansofny"]
    _error(api_client.post("/api/v1/exports", {"usernames": [], "format": "csv"}, format="json"), 400, "invalid")
    _error(api_client.post("/api/v1/exports", {"usernames": ["x"], "format": "pdf"}, format="json"), 400, "invalid")


def test_large_export_runs_as_a_task_and_is_private(api_client, other_client, unlocked, settings, paid,
                                                    django_capture_on_commit_callbacks):  # fmt: skip
    settings.EXPORT_SYNC_MAX_PROFILES = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/exports", {"usernames": ["humansofny"], "format": "xlsx"}, format="json")
    assert response.status_code == 202
    export_id = response.json()["id"]
    status = api_client.get(f"/api/v1/exports/{export_id}").json()
    assert status["status"] == "ready" and status["download_url"]
    download = api_client.get(status["download_url"])
    assert download.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook["Profiles"]["A2"].value == "humansofny"
    _error(other_client.get(f"/api/v1/exports/{export_id}"), 404, "export_not_found")
    _error(other_client.get(f"/api/v1/exports/{export_id}/download"), 404, "export_not_found")
    assert Export.objects.get(pk=export_id).rows == 1


def test_staff_sees_every_creator_without_unlocking(staff_client, creator):
    body = staff_client.get(SEARCH.format("humansofny")).json()
    assert body["locked"] is False and body["report"]["overview"]["username"] == "humansofny"


def test_unlock_without_credits_is_402(creator):
    from credits.services import wallet_get_or_create

    user = UserFactory()
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    from credits.models import QuotaUsage

    QuotaUsage.objects.create(
        wallet=wallet, cycle_start=wallet.cycle_start, action_type="influencer_unlock", free_used=0, plan_used=5
    )
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    error = _error(client.post(UNLOCK.format("humansofny")), 402, "insufficient_credits")
    assert error["details"]["price"] == 25 and error["details"]["missing"] == 25
    assert not TeamProfileAccess.objects.filter(team=team_of(user)).exists()
