from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # Connects our reactions to dj-stripe's webhook signals (after dj-stripe's own
        # handlers, which sync the objects first: djstripe is earlier in INSTALLED_APPS).
        from billing import conf, receivers  # noqa: F401

        conf.stripe_api_base_apply()
