"""Schedule `discovery.tasks.discovery_counts_refresh` every two minutes with django-celery-beat.

The counts are cached ``DISCOVERY_COUNTS_CACHE_SECONDS`` (5 minutes by default): refreshed
every two, a request never finds them expired and never pays for the ``GROUP BY``.
"""

from django.db import migrations

from config.beat import periodic_task_functions

TASK = "discovery.tasks.discovery_counts_refresh"
NAME = "discovery: refresh the creators-per-category and per-language counts"

schedule, unschedule = periodic_task_functions(name=NAME, task=TASK, every_seconds=120)


class Migration(migrations.Migration):
    dependencies = [
        ("discovery", "0002_beat_discovery_tick"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
