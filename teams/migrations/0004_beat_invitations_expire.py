"""Schedule `teams.tasks.invitations_expire` daily (03:17 UTC) with django-celery-beat."""

from django.db import migrations

from config.beat import periodic_task_schedule, periodic_task_unschedule

TASK = "teams.tasks.invitations_expire"
NAME = "teams: mark pending invitations past their expiry as expired"


def schedule(apps, schema_editor):
    periodic_task_schedule(apps, schema_editor, name=NAME, task=TASK, crontab={"minute": "17", "hour": "3"})


def unschedule(apps, schema_editor):
    periodic_task_unschedule(apps, schema_editor, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0003_personal_teams"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
