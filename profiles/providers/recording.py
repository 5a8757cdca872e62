"""Record every provider call (``ProviderCall``) the same way, whatever the provider.

``get_provider()`` wraps each provider in ``RecordedProvider``: the call is timed, the outcome
(ok or the error's category) and the provider's ``CallInfo`` (HTTP status, attempts, results)
are stored with the estimated cost, and the result or error passes through unchanged.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError

from profiles.providers.base import CallInfo, Provider, ProviderError, ScrapedProfile

logger = logging.getLogger(__name__)


class RecordedProvider:
    def __init__(self, inner: Provider):
        self.inner = inner
        self.name = inner.name

    def fetch(self, username: str, *, call: CallInfo | None = None) -> ScrapedProfile:
        from profiles.services import provider_call_record  # services import providers

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
