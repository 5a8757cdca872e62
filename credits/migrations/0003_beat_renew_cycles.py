"""Schedule `credits.tasks.wallets_renew_due_cycles` hourly with django-celery-beat.

Hourly so that a cycle ending at any time of day restarts its quotas within the hour
(spends also renew a due cycle themselves, under the wallet lock).
"""

from django.db import migrations

TASK = "credits.tasks.wallets_renew_due_cycles"
NAME = "credits: renew wallets whose billing cycle ended"


def schedule(apps, schema_editor):
    db = schema_editor.connection.alias
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.using(db).get_or_create(
        minute="7", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.using(db).update_or_create(
        name=NAME, defaults={"task": TASK, "crontab": crontab, "enabled": True, "interval": None}
    )


def unschedule(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(db).filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0002_seed_plans_prices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
