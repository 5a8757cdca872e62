"""The limits hold with several workers: threads drain the queue at once on PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.db import connection

from analysis import services as analysis_pipeline
from analysis.models import AnalysisJob
from discovery.models import DiscoveryAttempt, DiscoveryCandidate, DiscoveryQueueState
from discovery.services import queue
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
THREADS = 8


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("Row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite serialises writers anyway.")


@pytest.fixture
def broker(monkeypatch) -> list[str]:
    """The broker (outside the database): jobs handed to it are recorded, not run."""
    sent: list[str] = []
    monkeypatch.setattr(analysis_pipeline, "pipeline_dispatch", lambda task, job_id: sent.append(job_id))
    return sent


@pytest.fixture(autouse=True)
def _slow_counts(monkeypatch):
    """Widen the race: each drain waits a moment between reading the counts and starting jobs."""
    original = queue.queue_usage

    def slow(**kwargs):
        usage = original(**kwargs)
        time.sleep(0.05)
        return usage

    monkeypatch.setattr(queue, "queue_usage", slow)


def _candidates(count: int) -> None:
    DiscoveryQueueState.objects.get_or_create(pk=1)  # as the migration leaves it (flushed by these tests)
    DiscoveryCandidate.objects.bulk_create(DiscoveryCandidate(username=f"queued_{i:03d}") for i in range(count))


def _in_threads(target) -> list[BaseException]:
    return run_together(target, THREADS)


def test_concurrent_drains_start_at_most_three(settings, broker):
    settings.DISCOVERY_MAX_RUNNING = 3
    _candidates(300)
    assert _in_threads(lambda: queue.candidates_start(now=T0)) == []
    assert DiscoveryCandidate.objects.filter(status="running").count() == 3
    assert DiscoveryAttempt.objects.count() == 3
    assert AnalysisJob.objects.filter(trigger="discovery", status="queued").count() == 3
    assert len(broker) == 3


def test_concurrent_drains_respect_the_hourly_limit(settings, broker):
    limits = queue.Limits(max_running=1000, per_hour=10, per_day=1000)
    _candidates(300)
    assert _in_threads(lambda: queue.candidates_start(now=T0, limits=limits)) == []
    assert DiscoveryAttempt.objects.count() == 10 == len(broker)
    # The same from ticks of several workers a minute apart within the hour.
    for minute in range(1, 4):
        moment = T0.replace(minute=minute)
        assert _in_threads(lambda moment=moment: queue.candidates_start(now=moment, limits=limits)) == []
    assert DiscoveryAttempt.objects.count() == 10
    assert DiscoveryCandidate.objects.filter(status="running").count() == 10
