"""Errors of the accounts app, rendered by the one API exception handler like every other."""

from config.errors import ApplicationError, PermissionDenied


class AuthenticationFailed(ApplicationError):
    """Credentials or a token were wrong: 401, whatever exactly was wrong (no enumeration)."""

    status_code = 401
    default_code = "authentication_failed"


class AccountSuspended(PermissionDenied):
    """The credentials were right but the account is suspended by staff."""

    default_code = "account_suspended"


class InvalidToken(ApplicationError):
    """A password-reset or email-verification token is wrong, used or expired."""

    status_code = 400
    default_code = "invalid_token"
