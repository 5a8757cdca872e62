"""Domain errors of the credits app (rendered by ``config.api.exceptions``)."""

from config.errors import Conflict, NotFound, PaymentRequired, ValidationFailed


class InsufficientCredits(PaymentRequired):
    """402 with ``details = {action_type, quantity, price, balance, missing}``."""

    default_code = "insufficient_credits"


class UnknownAction(NotFound):
    """No active pricing rule for the action (404)."""

    default_code = "unknown_action"


class InvalidAmount(ValidationFailed):
    default_code = "invalid_amount"


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for a different operation (409)."""

    default_code = "idempotency_conflict"


class AlreadyRefunded(Conflict):
    default_code = "already_refunded"
