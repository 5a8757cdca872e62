"""Celery: named queues, routes, reliability settings, and that a message lands in one queue."""

import pytest
from django.conf import settings

from config.celery import QUEUES, app

PIPELINE_ROUTES = {
    "analysis.tasks.scrape_profile": "scrape",
    "analysis.tasks.store_media": "cdn",
    "analysis.tasks.analyse_posts": "ai",
    "cdn.tasks.image_asset_store_task": "cdn",
}


def _queue_for(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_four_named_queues_each_with_its_own_routing_key():
    queues = app.amqp.queues
    assert set(queues) == {"default", "scrape", "cdn", "ai"} == set(QUEUES)
    assert {q.routing_key for q in queues.values()} == set(QUEUES)
    assert all(queues[name].routing_key == name for name in QUEUES)


def test_reliability_and_serialisation_settings():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_default_queue == "default"
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert conf.task_routes == settings.CELERY_TASK_ROUTES
    assert conf.worker_hijack_root_logger is False  # workers log through settings.LOGGING


# Importing the task modules runs Django's system checks (Celery's Django fix-up), and
# dj-stripe's checks read the webhook endpoints from the database.
@pytest.mark.django_db
def test_every_task_routes_to_a_declared_queue():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert ours, "no project task was discovered"
    assert {name: _queue_for(name) for name in ours if _queue_for(name) not in QUEUES} == {}


@pytest.mark.parametrize(("task_name", "queue"), sorted(PIPELINE_ROUTES.items()))
def test_pipeline_stages_go_to_their_workers(task_name, queue):
    assert _queue_for(task_name) == queue


def test_unrouted_tasks_use_the_default_queue():
    assert _queue_for("credits.tasks.anything") == "default"


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # send_task always publishes
@pytest.mark.parametrize(("task_name", "queue"), [("cdn.tasks.image_asset_store_task", "cdn"), ("x.y", "default")])
def test_a_published_task_lands_in_exactly_one_queue(task_name, queue):
    # The in-memory transport routes like Redis (kombu's virtual exchanges). Every queue is
    # declared first, as the workers do, so a mis-bound queue would receive a copy.
    with app.connection_for_write("memory://") as conn:
        channel = conn.default_channel
        for q in app.amqp.queues.values():
            q.bind(channel).declare()
        app.send_task(task_name, args=["00000000-0000-0000-0000-000000000000"], connection=conn)
        counts = {name: channel.queue_declare(queue=name, passive=True).message_count for name in QUEUES}
        for name in QUEUES:
            channel.queue_purge(name)
    assert counts == {name: int(name == queue) for name in QUEUES}
