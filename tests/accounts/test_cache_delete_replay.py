"""A cache delete that missed Redis outlives the process that made it (``config.cache``).

Before: the failed delete was remembered in that process's memory only. If the process died
(a deploy, an OOM kill) before Redis answered again, Redis came back with the stale value,
e.g. a suspended user's 'active' auth record, served by every worker for up to
``AUTH_RECORD_SECONDS`` (10 minutes). Now the delete is also recorded in the database and
replayed every minute by ``accounts.tasks.cache_deletes_replay`` on behalf of every process.
"""

import pytest
import redis
from django.core.cache import cache

from accounts.auth_cache import auth_record_key, auth_record_load
from accounts.models import PendingCacheDelete
from accounts.tasks import cache_deletes_replay
from config import cache as resilient
from config.cache import breaker, pending_deletes_replay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _redis_cache():
    if not hasattr(cache, "client") or not isinstance(cache.client.get_client(), resilient.ResilientRedis):
        pytest.skip("needs the Redis cache (REDIS_URL)")
    breaker.reset()
    yield
    breaker.reset()
    resilient._pending_deletes.clear()


class Outage:
    """``start()`` makes Redis unreachable for this process, ``end()`` brings it back."""

    def __init__(self, monkeypatch):
        self.monkeypatch, self.real = monkeypatch, redis.Redis.execute_command

    def start(self):
        def refuse(client, *args, **kwargs):
            raise redis.exceptions.ConnectionError("Redis is down (test)")

        self.monkeypatch.setattr(redis.Redis, "execute_command", refuse)

    def end(self):
        self.monkeypatch.setattr(redis.Redis, "execute_command", self.real)
        breaker.reset()


@pytest.fixture
def outage(monkeypatch):
    return Outage(monkeypatch)


def test_a_suspension_made_while_redis_was_unreachable_survives_its_process(user, outage):
    assert auth_record_load(user.pk)["active"] is True  # cached: the fast path trusts it
    outage.start()
    user.status = user.Status.SUSPENDED
    user.save(update_fields=["status"])  # the invalidation cannot reach Redis
    assert PendingCacheDelete.objects.filter(key__endswith=auth_record_key(user.pk)).exists()
    resilient._pending_deletes.clear()  # the process that suspended the user dies
    outage.end()  # Redis answers again, with the stale record
    assert cache.get(auth_record_key(user.pk))["active"] is True
    assert cache_deletes_replay() == 1  # any worker, within a minute
    assert cache.get(auth_record_key(user.pk)) is None
    assert auth_record_load(user.pk)["active"] is False
    assert not PendingCacheDelete.objects.exists()


def test_the_replay_waits_while_redis_is_still_down(outage):
    outage.start()
    cache.delete("some-key")
    assert PendingCacheDelete.objects.count() == 1
    with pytest.raises(redis.exceptions.ConnectionError):
        pending_deletes_replay()
    assert PendingCacheDelete.objects.count() == 1  # kept for the next run
    outage.end()
    assert pending_deletes_replay() == 1 and not PendingCacheDelete.objects.exists()


def test_a_database_error_while_recording_keeps_the_delete_in_memory(outage, monkeypatch, caplog):
    outage.start()

    def broken(*args, **kwargs):
        raise RuntimeError("database down too")

    monkeypatch.setattr(PendingCacheDelete.objects, "bulk_create", broken)
    cache.delete("another-key")  # no exception reaches the caller
    assert any(str(key).endswith("another-key") for key in resilient._pending_deletes)
    assert "could not record 1 cache delete(s)" in caplog.text


def test_the_replay_runs_every_minute():
    from django_celery_beat.models import PeriodicTask

    from config.data_migrations import data_migration_run

    # A transactional test's flush may have emptied the beat tables: schedule as the migration does.
    data_migration_run("accounts.migrations.0003_beat_cache_deletes_replay", "schedule")
    data_migration_run("accounts.migrations.0003_beat_cache_deletes_replay", "schedule")  # twice: still one task
    task = PeriodicTask.objects.get(task="accounts.tasks.cache_deletes_replay")
    assert task.enabled and task.interval.every == 60 and task.interval.period == "seconds"
    assert task.queue == "default"
