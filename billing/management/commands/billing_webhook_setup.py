"""Create the one Stripe webhook endpoint (in Stripe and as dj-stripe's WebhookEndpoint row)."""

from django.core.management.base import BaseCommand

from billing.services import WEBHOOK_EVENTS, webhook_endpoint_setup


class Command(BaseCommand):
    help = "Register https://<host>/stripe/webhook/<uuid>/ with Stripe and store its signing secret."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", required=True, help="The public base URL of this API, e.g. https://api.example.com"
        )

    def handle(self, *args, **options):
        endpoint = webhook_endpoint_setup(base_url=options["url"])
        self.stdout.write(f"webhook endpoint {endpoint.id}: {endpoint.url}")
        self.stdout.write(f"events: {', '.join(WEBHOOK_EVENTS)}")
