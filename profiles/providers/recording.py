"""Record every provider call (``ProviderCall``) the same way, whatever the provider.

``get_provider()`` wraps each provider in ``RecordedProvider``: the call is timed, the outcome
(ok or the error's category) and the provider's ``CallInfo`` (HTTP status, attempts, results)
are stored with the estimated cost, and the result or error passes through unchanged.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, transaction

from profiles.models import ProviderCall
from profiles.providers.base import CallInfo, Provider, ProviderError, ScrapedProfile

logger = logging.getLogger(__name__)


class RecordedProvider:
    def __init__(self, inner: Provider):
        self.inner = inner
        self.name = inner.name

    def fetch(self, username: str, *, call: CallInfo | None = None) -> ScrapedProfile:
        call = call if call is not None else CallInfo()
        started = time.monotonic()
        error: ProviderError | None = None
        try:
            return self.inner.fetch(username, call=call)
        except ProviderError as exc:
            error = exc
            raise
        except Exception as exc:
            # Recorded as a provider error (never as "ok"), then re-raised unchanged.
            error = ProviderError(f"{type(exc).__name__}: {exc}", username=username)
            raise
        finally:
            try:
                provider_call_record(
                    provider=self.name,
                    username=username,
                    call=call,
                    duration_ms=int((time.monotonic() - started) * 1000),
                    error=error,
                )
            except DatabaseError:
                # Bookkeeping must never turn a good scrape into a failure.
                logger.exception("provider call for @%s could not be recorded", username)


def provider_call_record(
    *,
    provider: str,
    username: str,
    call: CallInfo,
    duration_ms: int,
    error: ProviderError | None = None,
) -> ProviderCall:
    """Store one provider call. A call that reached the provider costs its configured price."""
    price = settings.SCRAPER_COST_CENTS.get(provider, 0) if call.attempts else 0
    status = ProviderCall.Status.OK if error is None else error.category
    if status not in ProviderCall.Status.values:
        status = ProviderCall.Status.PROVIDER_ERROR
    with transaction.atomic():  # a savepoint when the caller is inside a transaction
        return ProviderCall.objects.create(
            provider=provider,
            operation=call.operation,
            username=(username or "")[:64],
            status=status,
            http_status=call.http_status if call.http_status is None else min(call.http_status, 32767),
            attempts=min(call.attempts, 32767),
            duration_ms=max(duration_ms, 0),
            results_returned=call.results_returned,
            cost_cents=Decimal(str(price)),
            error_detail="" if error is None else str(error)[:2000],
        )
