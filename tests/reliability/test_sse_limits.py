"""Issue 15 #2: one user's job event streams cannot take the whole server.

Before the fix, one user's open streams (SSE) held every gunicorn thread for up to 300 s:
health checks and other users timed out. Now streams are bounded per user and per process
(429 ``too_many_streams`` beyond), short, and resumable with ``Last-Event-ID``.
The last test proves it on a real gunicorn (one gthread worker, 4 threads, spare port).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from analysis.api import streams
from analysis.models import AnalysisJob
from config.errors import TooManyRequests
from tests.factories import UserFactory, account_of
from tests.reliability import procs

EVENTS = "/api/v1/analysis/jobs/{}/events"


@pytest.fixture
def stream_limits(settings):
    settings.JOB_EVENTS_MAX_STREAMS_PER_USER = 2
    settings.JOB_EVENTS_MAX_STREAMS_PER_PROCESS = 3
    settings.JOB_EVENTS_POLL_SECONDS = 0.05
    settings.JOB_EVENTS_MAX_SECONDS = 5
    assert streams.streams_open() == 0
    yield settings
    assert streams.streams_open() == 0, "a stream slot was not given back"


# transaction=True: closing a streamed response fires request_finished, which closes the
# test's database connection (fatal inside the atomic block of an ordinary test).
@pytest.mark.django_db(transaction=True)
def test_a_users_third_stream_is_refused_and_closing_gives_the_slot_back(api_client, user, stream_limits):
    job = AnalysisJob.objects.create(username="slow_one", requested_by=user, team_id=account_of(user))
    held = [api_client.get(EVENTS.format(job.pk)) for _ in range(2)]
    assert [r.status_code for r in held] == [200, 200] and streams.streams_open() == 2
    refused = api_client.get(EVENTS.format(job.pk))
    assert refused.status_code == 429 and refused["Retry-After"]
    error = refused.json()["error"]
    assert error["code"] == "too_many_streams" and error["details"]["scope"] == "user"
    held[0].close()  # never iterated: the slot still comes back
    assert streams.streams_open() == 1
    again = api_client.get(EVENTS.format(job.pk))
    assert again.status_code == 200
    for response in (held[1], again):
        response.close()


@pytest.mark.django_db(transaction=True)
def test_the_process_limit_refuses_other_users_streams_with_429(user, stream_limits):
    from rest_framework.test import APIClient

    clients, held = [], []
    for _ in range(4):
        owner = UserFactory()
        job = AnalysisJob.objects.create(username=f"u{owner.pk}"[:30], requested_by=owner, team_id=account_of(owner))
        client = APIClient()
        client.force_authenticate(owner)
        clients.append((client, job))
    for client, job in clients[:3]:
        held.append(client.get(EVENTS.format(job.pk)))
    client, job = clients[3]
    refused = client.get(EVENTS.format(job.pk), HTTP_ACCEPT="text/event-stream")
    assert refused.status_code == 429
    assert b"event: error" in refused.content and b"too_many_streams" in refused.content
    for response in held:
        response.close()


@pytest.mark.django_db
def test_a_stream_ends_with_timeout_and_resumes_after_the_last_event(api_client, user, stream_limits):
    stream_limits.JOB_EVENTS_MAX_SECONDS = 0.2
    job = AnalysisJob.objects.create(username="resumable", requested_by=user, team_id=account_of(user))
    for index in range(3):
        job.events.create(status="queued", progress=index, message=f"event {index}", data={})
    body = b"".join(api_client.get(EVENTS.format(job.pk)).streaming_content).decode()
    ids = [int(line[4:]) for line in body.splitlines() if line.startswith("id: ")]
    assert len(ids) == 3 and body.rstrip().splitlines()[-2] == "event: timeout"
    resumed = b"".join(api_client.get(EVENTS.format(job.pk), HTTP_LAST_EVENT_ID=str(ids[1])).streaming_content).decode()
    assert [int(line[4:]) for line in resumed.splitlines() if line.startswith("id: ")] == [ids[2]]


def _gunicorn_env() -> dict[str, str]:
    """A server process's environment: 2 streams per user, 3 per process, 30 s streams."""
    return procs.app_env(
        JOB_EVENTS_MAX_STREAMS_PER_USER="2",
        JOB_EVENTS_MAX_STREAMS_PER_PROCESS="3",
        JOB_EVENTS_MAX_SECONDS="30",
        JOB_EVENTS_POLL_SECONDS="0.5",
        JOB_EVENTS_KEEPALIVE_SECONDS="1",
    )


def _open_stream(base: str, token: str, job_id) -> requests.Response:
    response = requests.get(
        base + EVENTS.format(job_id), headers={"Authorization": f"Bearer {token}"}, stream=True, timeout=10
    )
    if response.status_code == 200:
        assert next(response.iter_content(chunk_size=None)).startswith(b"retry:")  # the stream is open
    return response


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLITE: gunicorn needs a database shared with the test")
@pytest.mark.django_db(transaction=True)
def test_real_gunicorn_serves_others_while_one_user_holds_the_maximum(tmp_path):
    hog, other = UserFactory(), UserFactory()
    hog_job = AnalysisJob.objects.create(username="hog_job", requested_by=hog, team_id=account_of(hog))
    other_job = AnalysisJob.objects.create(username="other_job", requested_by=other, team_id=account_of(other))
    hog_token, other_token = str(AccessToken.for_user(hog)), str(AccessToken.for_user(other))
    env = _gunicorn_env()
    log = tmp_path / "gunicorn.log"
    with procs.gunicorn(env, threads=4, log=log) as base:
        held = [_open_stream(base, hog_token, hog_job.pk) for _ in range(2)]
        assert [r.status_code for r in held] == [200, 200]
        # the hog tries for more: refused at once, not queued behind its own streams
        started = time.monotonic()
        extra = [_open_stream(base, hog_token, hog_job.pk) for _ in range(6)]
        assert {r.status_code for r in extra} == {429}, log.read_text()[-2000:]
        assert extra[0].headers["Retry-After"] and time.monotonic() - started < 5
        # everyone else is served, several at a time, while the hog holds its maximum
        bearer = {"Authorization": f"Bearer {other_token}"}

        def other_calls(_):
            begun = time.monotonic()
            job = requests.get(f"{base}/api/v1/analysis/jobs/{other_job.pk}", headers=bearer, timeout=5)
            health = requests.get(f"{base}/api/health/live", timeout=5)
            return job.status_code, health.status_code, time.monotonic() - begun

        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(other_calls, range(12)))
        assert all(job == 200 and health == 200 for job, health, _ in answers), answers
        assert max(seconds for _, _, seconds in answers) < 5
        # the other user may still open a stream of its own
        own = _open_stream(base, other_token, other_job.pk)
        assert own.status_code == 200
        # a closed stream gives its slot back (the server sees the disconnect at its next write)
        for response in [*held, own]:
            response.close()
        deadline = time.monotonic() + 20
        while True:
            reopened = _open_stream(base, hog_token, hog_job.pk)
            if reopened.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert reopened.status_code == 200
        reopened.close()


# --- the per-user limit across processes (Redis leases) --------------------------------------

needs_redis = pytest.mark.skipif(
    "redis" not in settings.CACHES["default"]["BACKEND"].lower(),
    reason="the cross-process stream count lives in Redis (the cache); without it the count is per process",
)


def _as_another_process():
    """Forget this process's own counts, as a second gunicorn worker would not see them."""
    with streams._lock:
        streams._open.clear()
        streams._total = 0


@pytest.fixture
def lease_user(stream_limits):
    yield f"lease-test-{time.monotonic_ns()}"  # the leases go with the cache, cleared after each test
    _as_another_process()


@needs_redis
def test_a_users_streams_are_counted_across_processes(lease_user):
    first = streams.stream_slot_take(user_id=lease_user)
    _as_another_process()  # the second stream is opened on another worker
    second = streams.stream_slot_take(user_id=lease_user)
    _as_another_process()
    with pytest.raises(TooManyRequests) as refused:  # a third worker: the user already holds 2 streams
        streams.stream_slot_take(user_id=lease_user)
    assert refused.value.code == "too_many_streams" and refused.value.details["scope"] == "user"
    assert streams.streams_open() == 0  # the refused take gave back its process slot
    streams.stream_slot_release(user_id=lease_user, lease=first)  # the first stream ends (on its worker)
    _as_another_process()
    third = streams.stream_slot_take(user_id=lease_user)
    assert third and len({first, second, third}) == 3


@needs_redis
def test_concurrent_takes_never_exceed_the_users_limit(lease_user):
    with ThreadPoolExecutor(max_workers=10) as pool:
        leases = list(pool.map(lambda _: streams._lease_take(user_id=lease_user, per_user=2), range(10)))
    assert sum(1 for lease in leases if lease) == 2 and leases.count(None) == 8


@needs_redis
def test_the_leases_of_a_dead_process_expire(lease_user, stream_limits, monkeypatch):
    stream_limits.JOB_EVENTS_MAX_SECONDS = 0.2
    monkeypatch.setattr(streams, "LEASE_MARGIN_SECONDS", 0)
    for _ in range(2):  # a worker takes both slots, then dies without releasing them
        streams.stream_slot_take(user_id=lease_user)
        _as_another_process()
    with pytest.raises(TooManyRequests, match="Too many open event streams"):
        streams.stream_slot_take(user_id=lease_user)
    time.sleep(0.3)
    assert streams.stream_slot_take(user_id=lease_user)


def test_without_redis_the_per_process_count_decides(stream_limits, monkeypatch, caplog):
    class DeadRedis:
        def eval(self, *args):
            raise ConnectionError("Redis is down")

        def zrem(self, *args):
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(streams, "redis_client", lambda: DeadRedis())
    held = [streams.stream_slot_take(user_id="no-redis") for _ in range(2)]
    assert held == ["", ""] and "per-process stream limit applies alone" in caplog.text
    with pytest.raises(TooManyRequests, match="Too many open event streams"):
        streams.stream_slot_take(user_id="no-redis")
    for lease in held:
        streams.stream_slot_release(user_id="no-redis", lease=lease)


@needs_redis
@pytest.mark.slow
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLITE: gunicorn needs a database shared with the test")
@pytest.mark.django_db(transaction=True)
def test_real_gunicorn_with_three_workers_holds_a_user_to_the_limit(tmp_path):
    # Before the leases, each worker counted alone: three workers let one user hold six streams.
    hog = UserFactory()
    job = AnalysisJob.objects.create(username="hog_job", requested_by=hog, team_id=account_of(hog))
    token = str(AccessToken.for_user(hog))
    env = _gunicorn_env()
    log = tmp_path / "gunicorn.log"
    with procs.gunicorn(env, threads=4, workers=3, log=log) as base:
        with ThreadPoolExecutor(max_workers=9) as pool:  # at once, so that every worker takes some
            answers = list(pool.map(lambda _: _open_stream(base, token, job.pk), range(9)))
        codes = sorted(r.status_code for r in answers)
        assert codes == [200, 200] + [429] * 7, log.read_text()[-2000:]
        for response in answers:
            response.close()
