"""The one retry policy: a scrape that meets "503 forever" makes at most the configured attempts.

A local HTTP server stands in for Apify and counts the requests (each one costs money). The
tasks run eagerly; Celery's eager mode performs a retry at once (without waiting for its
countdown), so the countdowns the policy asked for are recorded and checked separately.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.app.task import Task

from analysis import services
from analysis.models import AnalysisJob
from analysis.tasks import scrape_profile
from config.celery import QUEUES, app
from config.tasks import PolicyTask, retry_countdown

pytestmark = pytest.mark.django_db


class _AlwaysFailing:
    """Answers every request with ``status`` (and ``Retry-After``), counting them."""

    def __init__(self, status: int, retry_after: str | None = None):
        outer = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests += 1
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "unavailable"}}')

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def apify(settings, monkeypatch):
    servers = []

    def start(status: int, retry_after: str | None = None) -> _AlwaysFailing:
        server = _AlwaysFailing(status, retry_after)
        servers.append(server)
        settings.SCRAPER_PROVIDER = "apify"
        settings.APIFY_BASE_URL = server.url
        settings.APIFY_TOKEN = "test-token"
        settings.SCRAPER_BREAKER_THRESHOLD = 1000  # the breaker is not what bounds the requests here
        return server

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)  # eager retries run at once
    yield start
    for server in servers:
        server.close()


@pytest.fixture
def countdowns(monkeypatch):
    """The countdown of every retry the policy schedules."""
    recorded: list[float | None] = []
    original = Task.retry

    def recording(self, *args, **kwargs):
        recorded.append(kwargs.get("countdown"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Task, "retry", recording)
    return recorded


def _job() -> AnalysisJob:
    return AnalysisJob.objects.create(username="humansofny", steps=["scrape", "media", "ai"])


def test_503_forever_costs_at_most_the_configured_attempts(apify, countdowns, settings):
    server = apify(503, retry_after="42")
    job = _job()

    scrape_profile.delay(str(job.pk))

    attempts = 1 + settings.TASK_MAX_RETRIES
    assert scrape_profile.max_retries == settings.TASK_MAX_RETRIES
    assert server.requests == attempts  # one request per task try, no in-process retries
    job.refresh_from_db()
    assert (job.status, job.error_stage, job.error_category) == ("failed", "scrape", "transient")
    assert job.attempts == attempts
    # Retry-After (42 s) is the countdown of every retry: longer than the first backoffs.
    assert len(countdowns) == attempts and all(c == 42 for c in countdowns)


def test_retry_after_is_capped_and_backoff_kept_when_longer():
    class Slow(Exception):
        retry_after = 10_000

    class Quick(Exception):
        retry_after = 1

    assert retry_countdown(Slow(), 3, maximum=300) == 300
    assert retry_countdown(Quick(), 40, maximum=300) == 40
    assert retry_countdown(ValueError(), 40, maximum=300) == 40


def test_permanent_provider_errors_are_not_retried(apify, countdowns):
    server = apify(400)
    job = _job()

    scrape_profile.delay(str(job.pk))

    assert server.requests == 1 and countdowns == []
    job.refresh_from_db()
    assert (job.status, job.error_category) == ("failed", "provider_error")


def test_an_unexpected_error_fails_the_job_without_retries(apify, countdowns, monkeypatch):
    def broken(*, job_id):
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "job_run_scrape", broken)
    job = _job()

    scrape_profile.delay(str(job.pk))

    job.refresh_from_db()
    assert (job.status, job.error_stage, job.error_category) == ("failed", "scrape", "internal")
    assert countdowns == []


def test_every_task_declares_its_queue_and_uses_the_policy():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"analysis.tasks.scrape_profile", "cdn.tasks.image_asset_store_task"} <= set(ours)
    for name, task in ours.items():
        assert isinstance(task, PolicyTask), name
        assert task.declared_queue in QUEUES, name
        assert app.amqp.router.route({}, name)["queue"].name == task.declared_queue, name
        assert task.acks_late and task.time_limit and task.soft_time_limit, name
    assert app.conf.task_routes and not isinstance(app.conf.task_routes[0], dict)  # no name patterns
    expected = {"scrape_profile": "scrape", "store_media": "cdn", "analyse_posts": "ai"}
    for short, queue in expected.items():
        assert ours[f"analysis.tasks.{short}"].declared_queue == queue
