"""Stricter throttles for the auth endpoints, using the rates in ``DEFAULT_THROTTLE_RATES``.

Login is counted twice: per client address (one client hammering many accounts) and per
email address (many clients guessing one account's password). Either limit answers 429 with
``Retry-After``.
"""

import hashlib

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from config.api.throttling import WindowCounterMixin

# RFC 5321 caps an address at 254 characters; anything longer is not an email and is never
# counted by email (the per-address throttle still counts the request).
MAX_EMAIL_LENGTH = 254


def bounded_ident(value: str) -> str:
    """A cache-key fragment of bounded size for a client-chosen value: its SHA-256 digest.

    A raw request field in a key would let one client write megabytes into the cache per
    request (the key is stored even after the client is throttled).
    """
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


class _AuthThrottle(WindowCounterMixin, SimpleRateThrottle):
    """A throttle whose rate comes from ``scope`` and whose counters live under ``key_prefix``."""

    key_prefix = ""

    def get_cache_key(self, request: Request, view) -> str | None:
        ident = self.get_ident_for(request)
        if not ident:
            return None
        if len(ident) > 64:  # e.g. a forwarded-for chain: never an unbounded key
            ident = bounded_ident(ident)
        return self.cache_format % {"scope": self.key_prefix or self.scope, "ident": ident}

    def get_ident_for(self, request: Request) -> str | None:
        return self.get_ident(request)


class _EmailKeyedThrottle(_AuthThrottle):
    def get_ident_for(self, request: Request) -> str | None:
        data = request.data
        email = data.get("email") if hasattr(data, "get") else None
        if not isinstance(email, str):
            return None
        email = email.strip().lower()
        if not email or len(email) > MAX_EMAIL_LENGTH or "@" not in email:
            return None  # not an address: validated (and refused) by the view, counted by client only
        return bounded_ident(email)


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


class AdminLoginRateThrottle(_AuthThrottle):
    """The admin's login form, per client address (the same rate as the API's login)."""

    scope = "auth_login"
    key_prefix = "admin_login_ip"
