"""Schedule `teams.tasks.invitations_expire` daily (03:17 UTC) with django-celery-beat."""

from django.db import migrations

from config.beat import periodic_task_functions

TASK = "teams.tasks.invitations_expire"
NAME = "teams: mark pending invitations past their expiry as expired"

schedule, unschedule = periodic_task_functions(name=NAME, task=TASK, crontab={"minute": "17", "hour": "3"})


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0003_personal_teams"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
