"""Put back the seeded plans, prices and beat schedule when their tables are empty.

The data migrations 0002 and 0003 create these rows once. ``manage.py flush`` (which every
transactional test runs on teardown) empties the tables without re-running migrations, and
then emits ``post_migrate``; ``CreditsConfig.ready`` connects ``seed_if_empty`` to it, the
way Django restores content types. It only acts on an empty ``Plan`` table, so staff edits of
prices are never overwritten by a later ``migrate``.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS

from config.data_migrations import data_migration_run


def seed_if_empty(*, apps: Any = global_apps, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Seed plans, packages, prices and the renewal schedule of the database ``using`` if no
    plan exists there; True if seeded."""
    try:
        plan_model = apps.get_model("credits", "Plan")
    except LookupError:  # migrating backwards, or credits not migrated yet
        return False
    if plan_model.objects.using(using).exists():
        return False
    data_migration_run("credits.migrations.0002_seed_plans_prices", "seed", apps=apps, using=using)
    try:
        apps.get_model("django_celery_beat", "PeriodicTask")
    except LookupError:
        return True
    data_migration_run("credits.migrations.0003_beat_renew_cycles", "schedule", apps=apps, using=using)
    return True


def on_post_migrate(sender: Any, apps: Any = global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    seed_if_empty(apps=apps, using=using)
