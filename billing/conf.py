"""Stripe configuration: whether billing is on, the API key and version of every call.

Every Stripe request of ours goes through ``stripe_options()`` (explicit key and pinned
version, never the SDK's globals), and ``stripe_api_base_apply()`` points the SDK (ours and
dj-stripe's) at ``STRIPE_API_HOST`` when that is set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings

from billing.errors import BillingNotConfigured, StripeUnavailable

logger = logging.getLogger(__name__)


def stripe_secret_key() -> str:
    return settings.STRIPE_LIVE_SECRET_KEY if settings.STRIPE_LIVE_MODE else settings.STRIPE_TEST_SECRET_KEY


def billing_configured() -> bool:
    return bool(stripe_secret_key())


def billing_require_configured() -> None:
    if not billing_configured():
        raise BillingNotConfigured("Billing is not configured on this server (no Stripe secret key).")


def stripe_options() -> dict[str, Any]:
    """The keyword arguments of every SDK call: the mode's key and the pinned API version."""
    billing_require_configured()
    return {"api_key": stripe_secret_key(), "stripe_version": settings.STRIPE_API_VERSION}


def stripe_api_base_apply() -> None:
    """Point the SDK at ``STRIPE_API_HOST`` when set (tests, stripe-mock)."""
    host = getattr(settings, "STRIPE_API_HOST", "")
    if host:
        stripe.api_base = host


def stripe_ts(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Stripe being down or refusing us becomes a 503 (``StripeUnavailable``), never a 500."""
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.AuthenticationError) as exc:
        raise StripeUnavailable(
            "Stripe did not answer; try again shortly.", details={"reason": type(exc).__name__}
        ) from exc
    except stripe.InvalidRequestError as exc:
        logger.warning("billing: Stripe refused a request: %s", exc.user_message or exc)
        raise StripeUnavailable(
            "Stripe refused the request.", details={"stripe_code": getattr(exc, "code", None) or ""}
        ) from exc
    except stripe.StripeError as exc:  # its 5xx, a permission refused, an answer that is not JSON, ...
        logger.warning("billing: Stripe failed a request: %s %s", type(exc).__name__, exc.http_status)
        raise StripeUnavailable(
            "Stripe could not handle the request; try again shortly.",
            details={"reason": type(exc).__name__, "stripe_status": exc.http_status},
        ) from exc


def stripe_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """One SDK call with ``stripe_options()``, its errors mapped by ``stripe_errors``."""
    with stripe_errors():
        return fn(*args, **kwargs, **stripe_options())


def stripe_id(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.get("id", "")
