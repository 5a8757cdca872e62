from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from credits.seed import on_post_migrate

        # Restores the seeded prices after ``flush`` (see credits/seed.py).
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="credits_seed_if_empty")
