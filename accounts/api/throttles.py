"""Stricter throttles for the auth endpoints, using the rates in ``DEFAULT_THROTTLE_RATES``.

Login is counted twice: per client address (one client hammering many accounts) and per
email address (many clients guessing one account's password). Either limit answers 429 with
``Retry-After``.
"""

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class _AuthThrottle(SimpleRateThrottle):
    """A throttle whose rate comes from ``scope`` and whose counters live under ``key_prefix``."""

    key_prefix = ""

    def get_cache_key(self, request: Request, view) -> str | None:
        ident = self.get_ident_for(request)
        if not ident:
            return None
        return self.cache_format % {"scope": self.key_prefix or self.scope, "ident": ident}

    def get_ident_for(self, request: Request) -> str | None:
        return self.get_ident(request)


class _EmailKeyedThrottle(_AuthThrottle):
    def get_ident_for(self, request: Request) -> str | None:
        data = request.data
        email = data.get("email") if hasattr(data, "get") else None
        return email.strip().lower() if isinstance(email, str) and email.strip() else None


class LoginRateThrottle(_AuthThrottle):
    scope = "auth_login"
    key_prefix = "auth_login_ip"


class LoginEmailRateThrottle(_EmailKeyedThrottle):
    scope = "auth_login"
    key_prefix = "auth_login_email"


class RegisterRateThrottle(_AuthThrottle):
    scope = "auth_register"
    key_prefix = "auth_register_ip"


class PasswordResetRateThrottle(_AuthThrottle):
    scope = "auth_reset"
    key_prefix = "auth_reset_ip"


class PasswordResetEmailRateThrottle(_EmailKeyedThrottle):
    scope = "auth_reset"
    key_prefix = "auth_reset_email"


class TokenConfirmRateThrottle(_AuthThrottle):
    """Reset-confirm and email-verify: tokens are unguessable, this only caps abuse."""

    scope = "auth_login"
    key_prefix = "auth_token_confirm_ip"


class VerificationResendRateThrottle(_AuthThrottle):
    scope = "auth_reset"
    key_prefix = "auth_verify_resend_user"

    def get_ident_for(self, request: Request) -> str | None:
        return str(request.user.pk) if request.user and request.user.is_authenticated else self.get_ident(request)
