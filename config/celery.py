"""The Celery application: named queues default, scrape, cdn and ai; settings from Django.

Every task names its queue where it is declared (``config.tasks.app_task(queue=...)``);
``route_to_declared_queue`` sends it there (no routing by task-name patterns, so a renamed
task keeps its queue). acks_late, time limits, the JSON serializer and the beat scheduler are
Django settings (``config/settings/base.py``, namespace ``CELERY_``); the retry policy is
``config.tasks``.
"""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

QUEUES = ("default", "scrape", "cdn", "ai")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue is bound to its own exchange and routing key. Celery itself publishes to the
# nameless exchange by queue name, but with plain Queue(name) all four would be bound to the
# "default" exchange under the key "default", so any message sent there explicitly (another
# client, a manual apply_async(routing_key=...)) would be copied into every queue.
app.conf.task_queues = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES]
app.conf.task_default_exchange = "default"
app.conf.task_default_routing_key = "default"


def route_to_declared_queue(name, args, kwargs, options, task=None, **kw):
    """The queue a task declared (``app_task(queue=...)``); None leaves Celery's default."""
    if task is None:  # a router asked by name only
        task = app.tasks.get(name)
    queue = getattr(task, "declared_queue", None)
    return {"queue": queue} if queue else None


app.conf.task_routes = (route_to_declared_queue,)
app.autodiscover_tasks()
