"""The queue's admin: list with filters, the figures and limits above it, and the actions."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import ANY

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.data_migrations import data_migration_run
from discovery.models import DiscoveryAttempt, DiscoveryCandidate
from profiles.models import Profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


@pytest.fixture
def candidates(db):
    now = timezone.now()
    rows = {
        "waiting_one": {"status": "queued"},
        "running_one": {"status": "running", "started_at": now, "attempts": 1},
        "done_one": {"status": "done", "finished_at": now, "attempts": 1},
        "small_one": {"status": "skipped", "reason": "below_min_followers", "finished_at": now, "attempts": 1},
        "gone_one": {"status": "failed", "reason": "not_found", "finished_at": now, "attempts": 1},
    }
    created = {name: DiscoveryCandidate.objects.create(username=name, **fields) for name, fields in rows.items()}
    for name in ("running_one", "done_one", "small_one", "gone_one"):
        DiscoveryAttempt.objects.create(candidate=created[name], started_at=now - timedelta(minutes=5))
    return created


def test_changelist_shows_the_figures_and_filters(admin_client, candidates, settings):
    settings.DISCOVERY_MAX_PER_HOUR = 100
    url = reverse("admin:discovery_discoverycandidate_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="discovery-queue-stats"' in html
    stats = response.context["queue_stats"]
    assert stats["by_status"] == {
        "queued": 1, "running": 1, "done": 1, "skipped": 1, "failed": 1, "queued_due": 1,
    }  # fmt: skip
    assert stats["last_hour"] == {"started": 4, "done": 1, "skipped": 1, "failed": 1}
    assert stats["limits"]["hour_left"] == 96 and stats["limits"]["running_left"] == 2
    assert '<td class="running">1</td>' in html

    response = admin_client.get(url, {"reason": "below_min_followers"})
    assert [c.username for c in response.context["cl"].result_list] == ["small_one"]
    response = admin_client.get(url, {"status": "failed"})
    assert [c.username for c in response.context["cl"].result_list] == ["gone_one"]
    response = admin_client.get(url, {"q": "done"})
    assert [c.username for c in response.context["cl"].result_list] == ["done_one"]


def test_detail_page_is_read_only(admin_client, candidates):
    candidate = candidates["small_one"]
    response = admin_client.get(reverse("admin:discovery_discoverycandidate_change", args=[candidate.pk]))
    assert response.status_code == 200 and "below_min_followers" not in response.context["adminform"].form.fields
    assert admin_client.get(reverse("admin:discovery_discoverycandidate_add")).status_code == 403


def test_skip_action_calls_the_service(admin_client, candidates):
    url = reverse("admin:discovery_discoverycandidate_changelist")
    ids = [candidates[name].pk for name in ("waiting_one", "running_one", "gone_one")]
    response = admin_client.post(url, {"action": "skip", "_selected_action": ids}, follow=True)
    assert response.status_code == 200
    assert "2 candidate(s) skipped." in response.content.decode()
    statuses = dict(DiscoveryCandidate.objects.values_list("username", "status"))
    assert statuses["waiting_one"] == statuses["gone_one"] == "skipped" and statuses["running_one"] == "running"
    assert DiscoveryCandidate.objects.get(username="waiting_one").reason == "staff"


def test_discover_now_action_refuses_a_large_selection(admin_client, candidates):
    from discovery import admin as discovery_admin

    DiscoveryCandidate.objects.bulk_create(
        DiscoveryCandidate(username=f"many_{i}") for i in range(discovery_admin.DISCOVER_NOW_MAX + 1)
    )
    url = reverse("admin:discovery_discoverycandidate_changelist")
    ids = list(DiscoveryCandidate.objects.filter(username__startswith="many_").values_list("pk", flat=True))
    response = admin_client.post(url, {"action": "discover_now", "_selected_action": ids}, follow=True)
    assert f"Select at most {discovery_admin.DISCOVER_NOW_MAX}" in response.content.decode()
    assert not DiscoveryCandidate.objects.filter(status="running", username__startswith="many_").exists()


def test_discover_now_action_starts_the_job(admin_client, candidates, monkeypatch, django_capture_on_commit_callbacks):
    from analysis import services as analysis_pipeline

    sent = []
    monkeypatch.setattr(analysis_pipeline, "pipeline_dispatch", lambda task, job_id: sent.append(job_id))
    url = reverse("admin:discovery_discoverycandidate_changelist")
    ids = [candidates["waiting_one"].pk, candidates["running_one"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"action": "discover_now", "_selected_action": ids}, follow=True)
    assert "1 started, 0 skipped (already complete), 1 left alone (running)." in response.content.decode()
    waiting = DiscoveryCandidate.objects.get(username="waiting_one")
    assert waiting.status == "running" and waiting.job.trigger == "discovery" and waiting.job.options == {}
    assert sent == [str(waiting.job_id)]


def test_the_tick_is_scheduled_every_minute():
    PeriodicTask.objects.filter(task="discovery.tasks.discovery_tick").delete()
    data_migration_run("discovery.migrations.0002_beat_discovery_tick", "schedule")
    task = PeriodicTask.objects.get(task="discovery.tasks.discovery_tick")
    assert task.enabled and task.interval.every == 60 and task.interval.period == "seconds"
    assert task.queue == "default"


def test_the_counts_are_refreshed_by_a_periodic_task_and_then_cost_no_query(creators, django_assert_num_queries):
    from django.core.cache import cache

    from discovery.selectors.overview import category_counts
    from discovery.tasks import discovery_counts_refresh

    # A transactional test's flush may have emptied the beat tables: schedule as the migration does.
    data_migration_run("discovery.migrations.0003_beat_counts_refresh", "schedule")
    task = PeriodicTask.objects.get(task="discovery.tasks.discovery_counts_refresh")
    assert task.enabled and task.interval.every == 120 and task.queue == "default"
    cache.clear()
    Profile.objects.filter(username="acidgigi").update(ai_primary_content_type="Music")
    assert discovery_counts_refresh.apply().get() == {"ai_primary_content_type": ANY, "top_language": ANY}
    with django_assert_num_queries(0):
        counts = {row["name"]: row["creators"] for row in category_counts()}
    expected = Profile.objects.filter(discoverable=True, ai_primary_content_type="Music").count()
    assert counts["Music"] == expected >= 1
