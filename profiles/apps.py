from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        from profiles import refunds  # noqa: F401  (connects the job_failed receiver)
