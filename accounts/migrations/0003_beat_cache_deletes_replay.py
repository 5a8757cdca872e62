"""Schedule `accounts.tasks.cache_deletes_replay` every minute with django-celery-beat."""

from django.db import migrations

from config.beat import periodic_task_functions

TASK = "accounts.tasks.cache_deletes_replay"
NAME = "accounts: replay the cache deletes that could not reach Redis"

schedule, unschedule = periodic_task_functions(name=NAME, task=TASK, every_seconds=60)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_pending_cache_delete"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
