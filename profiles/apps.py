from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        # Connect the signal receivers: report cache invalidation.
        from profiles.services import reports  # noqa: F401  (the profile_deleted receiver)
