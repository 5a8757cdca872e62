"""The Celery application: named queues default, scrape, cdn and ai; settings from Django."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "scrape", "cdn", "ai")]
app.autodiscover_tasks()
