"""The embedded default (eager tasks, no broker) runs the pipeline in a background thread.

Each such thread opens its own database connection; it must close it when it ends. Closing
only "old" ones (``close_old_connections``) kept every connection younger than
``CONN_MAX_AGE``: one leaked per analysis, until PostgreSQL refused "too many clients".
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from analysis import services

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLITE: Django never closes the in-memory test database's connections (close() keeps them)",
    ),
]


def test_the_pipeline_thread_closes_its_database_connection(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PIPELINE_EAGER_THREAD = True
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 600)  # a deployment's persistent connections
    used, done = [], threading.Event()

    def step(task_name, job_id):  # a pipeline step: it reads the database in the thread
        conn = connections["default"]
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        used.append(conn)
        done.set()

    monkeypatch.setattr(services, "task_send", step)
    before = {t.ident for t in threading.enumerate()}
    services.pipeline_dispatch("analysis.tasks.step_scrape", "job-1")
    assert done.wait(30)
    for thread in threading.enumerate():
        if thread.ident not in before and thread.name.startswith("pipeline-"):
            thread.join(30)

    [conn] = used
    assert conn is not connections["default"]  # the thread's own connection
    assert conn.connection is None  # closed when the thread ended
