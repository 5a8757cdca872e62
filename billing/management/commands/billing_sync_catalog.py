"""Create or update the Stripe catalogue (Products, Prices by lookup key) and sync it into dj-stripe."""

from django.core.management.base import BaseCommand

from billing.catalog import catalog_sync


class Command(BaseCommand):
    help = "Create or update the Stripe Products and Prices of our plans and top-ups (idempotent)."

    def handle(self, *args, **options):
        result = catalog_sync()
        self.stdout.write(
            f"products created: {result.products_created}, prices created: {result.prices_created}, "
            f"replaced: {result.prices_replaced}, unchanged: {result.unchanged}"
        )
        for lookup_key, price_id in sorted(result.price_ids.items()):
            self.stdout.write(f"  {lookup_key} -> {price_id}")
