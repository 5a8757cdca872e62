"""Schedule `accounts.tasks.cache_deletes_replay` every minute with django-celery-beat."""

from django.db import migrations

from config.beat import periodic_task_schedule, periodic_task_unschedule

TASK = "accounts.tasks.cache_deletes_replay"
NAME = "accounts: replay the cache deletes that could not reach Redis"


def schedule(apps, schema_editor):
    periodic_task_schedule(apps, schema_editor, name=NAME, task=TASK, every_seconds=60)


def unschedule(apps, schema_editor):
    periodic_task_unschedule(apps, schema_editor, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_pending_cache_delete"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
