"""The database connection dropped mid-request (``pg_terminate_backend``) on a real gunicorn.

A job event stream holds a database connection while it follows the job. Its backend is
terminated: before, the generator raised inside gunicorn and the stream was cut without a
word; now it ends with an ``error`` event (``database_unavailable``). The next requests are
served on a fresh connection, and nothing is lost: resuming with ``Last-Event-ID`` gives the
remaining events exactly once.
"""

from __future__ import annotations

import time

import psycopg
import pytest
import requests
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from analysis.models import AnalysisJob
from tests.factories import UserFactory, account_of
from tests.reliability import procs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLITE: pg_terminate_backend is PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]


def _terminate_others() -> int:
    """Terminate every other backend of the test database (gunicorn's connections)."""
    mine = connection.connection.info.backend_pid if connection.connection else 0
    with psycopg.connect(procs.database_url().replace("postgres://", "postgresql://"), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
            [mine],
        ).fetchall()
    return len(rows)


def _ids(text: str) -> list[int]:
    return [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]


def test_a_stream_whose_connection_is_killed_ends_cleanly_and_loses_nothing(tmp_path):
    owner = UserFactory()
    job = AnalysisJob.objects.create(username="db_drop", requested_by=owner, team_id=account_of(owner))
    first = [job.events.create(status="queued", progress=i, message=f"e{i}", data={}).id for i in range(3)]
    headers = {"Authorization": f"Bearer {AccessToken.for_user(owner)}"}
    env = procs.app_env(JOB_EVENTS_POLL_SECONDS="0.2", JOB_EVENTS_MAX_SECONDS="20", JOB_EVENTS_KEEPALIVE_SECONDS="1")
    log = tmp_path / "gunicorn.log"
    with procs.gunicorn(env, threads=4, log=log) as base:
        url = f"{base}/api/v1/analysis/jobs/{job.pk}/events"
        stream = requests.get(url, headers=headers, stream=True, timeout=15)
        assert stream.status_code == 200
        received = ""
        chunks = stream.iter_content(chunk_size=None, decode_unicode=True)
        while len(_ids(received)) < 3:
            received += next(chunks)
        assert _terminate_others() >= 1
        started = time.monotonic()
        for chunk in chunks:  # the stream must end by itself, with a word
            received += chunk
        assert time.monotonic() - started < 10
        assert "event: error" in received and "database_unavailable" in received, received[-500:]
        # served again at once, on a fresh connection
        assert requests.get(f"{base}/api/v1/analysis/jobs/{job.pk}", headers=headers, timeout=10).status_code == 200
        later = [job.events.create(status="scraping", progress=10 + i, message=f"l{i}", data={}).id for i in range(2)]
        AnalysisJob.objects.filter(pk=job.pk).update(status=AnalysisJob.Status.FAILED)
        resumed = requests.get(url, headers={**headers, "Last-Event-ID": str(first[-1])}, timeout=15).text
        assert _ids(resumed) == later and "event: end" in resumed
    assert "Traceback" not in log.read_text()
