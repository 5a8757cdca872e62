"""The application's one error type and its subclasses.

Services raise these; the API's exception handler maps them to HTTP statuses in one place
(``config.api.exceptions``). They carry a machine-readable ``code``, a human ``message`` and
``details`` for the client.
"""

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details or {}


class ValidationFailed(ApplicationError):
    status_code = 400
    default_code = "invalid"


class PaymentRequired(ApplicationError):
    status_code = 402
    default_code = "payment_required"


class PermissionDenied(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"


class ServiceUnavailable(ApplicationError):
    status_code = 503
    default_code = "unavailable"


class TransientError(Exception):
    """A failure that may go away by itself (timeout, 429, 5xx, a dependency that is down).

    Celery tasks retry exactly these (``config.tasks``), after at least ``retry_after``
    seconds when the failing service said how long to wait (``Retry-After``).
    """

    retry_after: float | None = None


class TooManyRequests(ApplicationError):
    """429; put ``retry_after`` (seconds) in ``details`` and the handler sends ``Retry-After``."""

    status_code = 429
    default_code = "throttled"
