"""Schedule `discovery.tasks.discovery_tick` every minute with django-celery-beat, and create
the queue's state row.

Every minute so that a finished discovery job frees its slot within a minute: at most
``DISCOVERY_MAX_RUNNING`` jobs run at once, so the tick's period bounds the throughput.
"""

from django.db import migrations

TASK = "discovery.tasks.discovery_tick"
NAME = "discovery: take in related profiles and start discovery jobs within the limits"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={"task": TASK, "interval": every_minute, "crontab": None, "enabled": True, "queue": "default"},
    )
    apps.get_model("discovery", "DiscoveryQueueState").objects.get_or_create(pk=1)


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("discovery", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
