"""A JWT check without the user row: the token's signature and expiry, and a cached auth record.

simplejwt's ``JWTAuthentication`` reads the user row on every request to refuse inactive
users and, with ``CHECK_REVOKE_TOKEN``, tokens issued before a password change. The auth
record is exactly what those checks need (active, staff, the revoke claim derived from the
password hash), cached per user and dropped whenever the user row is saved or deleted
(``accounts.signals``), so a suspension or a password change is refused at once. Hot read
paths use it; everything else keeps the full authentication class.

The revoke claim is already in every access token, so the cache holds nothing a token
does not. Without the cache (Redis down) the record is read from the database.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

# A safety net only: saves and deletes drop the record at once (see accounts.signals).
AUTH_RECORD_SECONDS = 600
_AUTH_KEY = "user-auth:v1:{}"

_authenticator: JWTAuthentication | None = None
# Tokens already validated by this process, by their encoded form: a token's signature and
# claims never change, so a repeat needs only its expiry checked again. Revocation is the
# auth record's job. Bounded: cleared when full.
_validated: dict[bytes, Token] = {}
VALIDATED_TOKENS_MAX = 10_000


def auth_record_key(user_id: Any) -> str:
    return _AUTH_KEY.format(user_id)


def auth_record_of(user: Any) -> dict[str, Any]:
    """What the token checks need from ``user``."""
    return {
        "active": bool(user.is_active),
        "staff": bool(user.is_staff),
        "revoke": get_md5_hash_password(user.password),
    }


def auth_record_load(user_id: Any) -> dict[str, Any] | None:
    """The user's auth record from the database (cached again), or None when there is no such user."""
    try:
        user = get_user_model().objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
    except (ValueError, TypeError, ValidationError):  # a malformed id (only in a token signed by us)
        return None
    if user is None:
        return None
    record = auth_record_of(user)
    cache.set(auth_record_key(user_id), record, timeout=AUTH_RECORD_SECONDS)
    return record


def auth_record_invalidate(user_id: Any) -> None:
    """Drop the cached record now and again when the current transaction commits.

    Dropping it now keeps this process from using it; dropping it at commit also clears a
    record that a concurrent request re-cached from the row before the change committed.
    """
    key = auth_record_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def validated_token(raw: bytes) -> Token:
    """The validated token for ``raw`` (signature and claims checked once per process, expiry
    every time); raises ``InvalidToken`` like simplejwt."""
    global _authenticator
    if _authenticator is None:
        _authenticator = JWTAuthentication()
    token = _validated.get(raw)
    if token is not None:
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError as exc:
            _validated.pop(raw, None)
            raise InvalidToken(str(exc)) from exc
        return token
    token = JWTAuthentication.get_validated_token(_authenticator, raw)
    if len(_validated) >= VALIDATED_TOKENS_MAX:
        _validated.clear()
    _validated[raw] = token
    return token


class CachedJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication with the process's validated-token memo: the DRF path and the
    report's fast path check tokens the same way (the user row is still read here: views need it)."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        return validated_token(raw_token)


def jwt_token(request: Request | Any) -> Token | None:
    """The validated access token of the request's ``Authorization`` header, or None.

    None for no header, another scheme, a malformed, expired or wrongly signed token: the
    caller then leaves the request to the full authentication, which answers the error.
    """
    global _authenticator
    if _authenticator is None:
        _authenticator = JWTAuthentication()
    header = _authenticator.get_header(request)
    if header is None:
        return None
    try:
        raw = _authenticator.get_raw_token(header)
    except AuthenticationFailed:
        return None
    if raw is None:
        return None
    try:
        return validated_token(raw)
    except (InvalidToken, AuthenticationFailed):
        return None


def token_user_id(token: Token) -> str | None:
    user_id = token.get(jwt_settings.USER_ID_CLAIM)
    return None if user_id is None else str(user_id)


def token_accepted(token: Token, record: dict[str, Any] | None) -> bool:
    """The checks of ``JWTAuthentication.get_user``, against the cached record instead of the row."""
    if record is None:
        return False
    if jwt_settings.CHECK_USER_IS_ACTIVE and not record["active"]:
        return False
    return not (jwt_settings.CHECK_REVOKE_TOKEN and token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != record["revoke"])
