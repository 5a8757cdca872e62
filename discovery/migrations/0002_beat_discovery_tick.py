"""Schedule `discovery.tasks.discovery_tick` every minute with django-celery-beat, and create
the queue's state row.

Every minute so that a finished discovery job frees its slot within a minute: at most
``DISCOVERY_MAX_RUNNING`` jobs run at once, so the tick's period bounds the throughput.
"""

from django.db import migrations

TASK = "discovery.tasks.discovery_tick"
NAME = "discovery: take in related profiles and start discovery jobs within the limits"


def schedule(apps, schema_editor):
    db = schema_editor.connection.alias
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.using(db).get_or_create(every=60, period="seconds")
    PeriodicTask.objects.using(db).update_or_create(
        name=NAME,
        defaults={"task": TASK, "interval": every_minute, "crontab": None, "enabled": True, "queue": "default"},
    )
    apps.get_model("discovery", "DiscoveryQueueState").objects.using(db).get_or_create(pk=1)


def unschedule(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(db).filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("discovery", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
