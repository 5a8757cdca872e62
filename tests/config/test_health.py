"""Health probes and metrics: fast, honest about each dependency, never throttled."""

import time

import pytest
from django.db.utils import OperationalError

from config import health


@pytest.mark.django_db
def test_health_reports_every_check(anon_client, settings):
    # Every dependency is up here; a generous budget keeps a busy CI machine (the first
    # request also connects to each one) from turning that into a timeout. The timeout
    # itself and the speed have their own tests below.
    settings.HEALTH_CHECK_TIMEOUT = 5
    response = anon_client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body["checks"]
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    assert response["X-Request-ID"]


@pytest.fixture
def migrations_unknown(monkeypatch):
    # The ready probe caches "migrations applied" for the process; start each test cold.
    monkeypatch.setattr(health, "_migrations_applied", False)


@pytest.mark.django_db
def test_health_is_fast(anon_client):
    anon_client.get("/api/health")  # warm: first connection, thread pool
    started = time.perf_counter()
    for _ in range(10):
        assert anon_client.get("/api/health").status_code == 200
    assert (time.perf_counter() - started) / 10 < 0.05


@pytest.mark.django_db
def test_health_is_down_503_without_the_database(anon_client, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_check_database", broken)
    monkeypatch.setattr(health.settings, "HEALTH_DETAILS_TOKEN", "probe-secret-123")
    response = anon_client.get("/api/health", HTTP_X_HEALTH_TOKEN="probe-secret-123")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["status"] == "error"
    assert "OperationalError" in body["checks"]["database"]["detail"]


def test_public_health_hides_hosts_and_driver_messages(anon_client, monkeypatch):
    def broken():
        raise OperationalError('connection to server at "10.0.0.7", port 5432 failed')

    monkeypatch.setattr(health, "_check_database", broken)
    monkeypatch.setattr(health.settings, "HEALTH_DETAILS_TOKEN", "probe-secret-123")
    for headers in ({}, {"HTTP_X_HEALTH_TOKEN": "wrong"}):
        response = anon_client.get("/api/health", **headers)
        assert response.status_code == 503
        text = response.content.decode()
        assert "10.0.0.7" not in text and "5432" not in text and "OperationalError" not in text
        assert response.json()["checks"]["database"] == {**response.json()["checks"]["database"], "detail": "error"}


@pytest.fixture
def drain_checks():
    yield
    # A check left sleeping by a test must not answer for the next test's probe.
    for future in list(health._in_flight.values()):
        future.result()


@pytest.mark.django_db
@pytest.mark.usefixtures("drain_checks")
def test_repeated_probes_of_a_hung_dependency_do_not_pile_up(anon_client, monkeypatch, settings):
    settings.HEALTH_CHECK_TIMEOUT = 0.1
    calls = []

    def hung_broker():
        calls.append(1)
        time.sleep(1)
        return "late"

    monkeypatch.setattr(health, "_check_broker", hung_broker)
    started = time.perf_counter()
    bodies = [anon_client.get("/api/health").json() for _ in range(8)]
    assert time.perf_counter() - started < 8 * 0.2
    assert len(calls) == 1  # later probes waited on the check already running
    assert all(b["checks"]["broker"]["status"] == "timeout" for b in bodies)
    # The other checks still get a thread of the pool: it is not filled with hung ones.
    assert all(b["checks"]["cache"]["status"] == "ok" for b in bodies)


@pytest.mark.django_db
@pytest.mark.usefixtures("drain_checks")
def test_a_hung_check_times_out_instead_of_slowing_health(anon_client, monkeypatch, settings):
    settings.HEALTH_CHECK_TIMEOUT = 0.1
    monkeypatch.setattr(health, "_check_broker", lambda: time.sleep(1) or "late")
    started = time.perf_counter()
    body = anon_client.get("/api/health").json()
    assert time.perf_counter() - started < 0.5
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["status"] == "timeout"


def test_live_needs_nothing(anon_client):
    response = anon_client.get("/api/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_when_migrated_and_the_database_answers(anon_client, migrations_unknown):
    response = anon_client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert health._migrations_applied is True  # later probes skip the migration graph


@pytest.mark.django_db
def test_not_ready_while_migrations_are_pending(anon_client, migrations_unknown, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("accounts", "9999_future")])
    response = anon_client.get("/api/health/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "migrations pending"}
    assert health._migrations_applied is False


@pytest.mark.django_db
def test_not_ready_without_the_database(anon_client, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_check_database", broken)
    response = anon_client.get("/api/health/ready")
    assert response.status_code == 503
    assert response.json()["status"].startswith("database unavailable")


@pytest.mark.django_db
def test_probes_are_public_and_never_throttled(anon_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})
    for _ in range(5):
        assert anon_client.get("/api/health").status_code == 200
        assert anon_client.get("/api/health/ready").status_code == 200
    # The same anonymous client is throttled on an ordinary endpoint. The window is a fixed
    # minute: five requests hold a third one in a window even when a minute starts among them.
    statuses = [anon_client.get("/api/schema/").status_code for _ in range(5)]
    assert statuses[-1] == 429 and statuses.count(200) <= 4


@pytest.mark.django_db
def test_prometheus_metrics(anon_client):
    anon_client.get("/api/health/live")
    response = anon_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert 'django_http_responses_total_by_status_total{status="200"}' in text


@pytest.mark.django_db
def test_metrics_refuse_other_networks_without_the_token(anon_client, settings):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    assert anon_client.get("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 404
    wrong = anon_client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    ok = anon_client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789")
    assert ok.status_code == 200
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert anon_client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert anon_client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200
    assert anon_client.get("/metrics", REMOTE_ADDR="8.8.8.8", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 404
