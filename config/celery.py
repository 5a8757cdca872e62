"""The Celery application: named queues default, scrape, cdn and ai; settings from Django.

Routing (``CELERY_TASK_ROUTES``), acks_late, time limits, the JSON serializer and the beat
scheduler are Django settings (``config/settings/base.py``, namespace ``CELERY_``).
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
app.autodiscover_tasks()
