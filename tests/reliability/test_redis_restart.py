"""Redis stopped and started under load: a real gunicorn on a Redis the test owns.

Four clients keep calling the API (an authenticated read, a cached creator lookup, the
liveness probe, wrong-password logins) while the Redis behind the cache is stopped for a few
seconds and started again on the same port. Expected: no 5xx at any moment, login throttling
still answers 429 while Redis is down (the in-process fallback), and once Redis is back the
cache is used again (keys reappear in it).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from analysis.models import AnalysisJob
from tests.factories import UserFactory, account_of
from tests.reliability import procs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLITE: gunicorn needs a database shared with the test"),
    pytest.mark.skipif(procs.redis_server_path() is None, reason="redis-server is not installed"),
    pytest.mark.django_db(transaction=True),
]


def test_redis_stopped_and_started_under_load_gives_no_5xx(tmp_path):
    user = UserFactory()
    job = AnalysisJob.objects.create(username="redis_restart", requested_by=user, team_id=account_of(user))
    bearer = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}
    port = procs.spare_port()
    statuses: Counter = Counter()
    server_errors: list[str] = []
    throttled_while_down: list[int] = []
    phase = {"name": "up"}
    stop = threading.Event()

    with procs.redis_server(port) as (_, first_redis):
        env = procs.app_env(
            REDIS_URL=f"redis://127.0.0.1:{port}/0",
            CACHE_BREAKER_RESET_SECONDS="1",
            THROTTLE_AUTH_LOGIN="10/min",
        )
        with procs.gunicorn(env, threads=8, log=tmp_path / "gunicorn.log") as base:
            calls = [
                lambda: requests.get(f"{base}/api/v1/analysis/jobs/{job.pk}", headers=bearer, timeout=10),
                lambda: requests.get(f"{base}/api/v1/search/creator/nobody_here", headers=bearer, timeout=10),
                lambda: requests.get(f"{base}/api/health/live", timeout=10),
                lambda: requests.post(
                    f"{base}/api/v1/auth/login", json={"email": user.email, "password": "wrong"}, timeout=10
                ),
            ]

            def hammer(call) -> None:
                while not stop.is_set():
                    try:
                        response = call()
                    except requests.RequestException as exc:
                        server_errors.append(f"{phase['name']}: {exc}")
                        continue
                    statuses[(phase["name"], response.status_code)] += 1
                    if response.status_code >= 500:
                        server_errors.append(f"{phase['name']}: {response.status_code} {response.url}")
                    if phase["name"] == "down" and response.status_code == 429:
                        throttled_while_down.append(1)
                    time.sleep(0.02)

            threads = [threading.Thread(target=hammer, args=(call,)) for call in calls]
            for thread in threads:
                thread.start()
            time.sleep(2)
            phase["name"] = "down"
            procs.stop(first_redis)
            time.sleep(4)
            phase["name"] = "back"
            with procs.redis_server(port) as (_, _second_redis):
                time.sleep(4)
                stop.set()
                for thread in threads:
                    thread.join(timeout=20)
                keys = requests.get(f"{base}/api/health/live", timeout=5)  # one more, with Redis up
                assert keys.status_code == 200
                import redis

                assert redis.Redis(port=port).dbsize() > 0, "the cache is not used again after the restart"
    print(f"\nredis restart under load: {dict(statuses)}")
    assert server_errors == [], server_errors[:10]
    assert sum(count for (name, _), count in statuses.items() if name == "down") > 20
    assert throttled_while_down, "login throttling disappeared while Redis was down"
    assert statuses[("back", 200)] > 0
