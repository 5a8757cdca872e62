"""Schedule `discovery.tasks.discovery_counts_refresh` every two minutes with django-celery-beat.

The counts are cached ``DISCOVERY_COUNTS_CACHE_SECONDS`` (5 minutes by default): refreshed
every two, a request never finds them expired and never pays for the ``GROUP BY``.
"""

from django.db import migrations

TASK = "discovery.tasks.discovery_counts_refresh"
NAME = "discovery: refresh the creators-per-category and per-language counts"


def schedule(apps, schema_editor):
    db = schema_editor.connection.alias
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_two_minutes, _ = IntervalSchedule.objects.using(db).get_or_create(every=120, period="seconds")
    PeriodicTask.objects.using(db).update_or_create(
        name=NAME,
        defaults={"task": TASK, "interval": every_two_minutes, "crontab": None, "enabled": True, "queue": "default"},
    )


def unschedule(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(db).filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("discovery", "0002_beat_discovery_tick"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
