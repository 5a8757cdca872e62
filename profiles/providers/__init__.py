"""Scraping providers, chosen by SCRAPER_PROVIDER (``dataset`` or ``apify``).

``get_provider()`` returns the configured provider wrapped so that every call is recorded
(``profiles.providers.recording``). Providers return ``base.ScrapedProfile`` and raise only
``base.ProviderError`` subclasses.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from profiles.providers.base import Provider
from profiles.providers.recording import RecordedProvider


def get_provider(name: str | None = None) -> RecordedProvider:
    name = (name or settings.SCRAPER_PROVIDER).strip().lower()
    provider: Provider
    if name == "dataset":
        from profiles.providers.dataset import DatasetProvider

        provider = DatasetProvider()
    elif name == "apify":
        from profiles.providers.apify import ApifyProvider

        provider = ApifyProvider()
    else:
        raise ImproperlyConfigured(f"Unknown SCRAPER_PROVIDER {name!r}: use 'dataset' or 'apify'.")
    return RecordedProvider(provider)
