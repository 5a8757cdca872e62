from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        # Connect the signal receivers: report cache invalidation, refunds of failed unlocks.
        from profiles import refunds, report  # noqa: F401
