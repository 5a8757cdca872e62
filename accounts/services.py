"""Writes of the accounts app: registration, login tokens, passwords, email verification, status.

Every function is keyword-only and owns its transaction and validation; views, admin actions
and management commands call these and nothing below them.
"""

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from accounts.errors import AccountSuspended, AuthenticationFailed, InvalidToken
from accounts.models import User
from accounts.selectors import user_email_taken, user_get, user_get_by_email, user_get_by_uidb64
from config.errors import Conflict, ValidationFailed
from config.tasks import task_send_on_commit

logger = logging.getLogger(__name__)

EMAIL_VERIFICATION_SALT = "accounts.email-verification"
EMAIL_VERIFICATION_MAX_AGE = timedelta(days=7)
PREFERENCES_MAX_BYTES = 16 * 1024


@dataclass(frozen=True)
class AuthTokens:
    access: str
    refresh: str


# --- Emails -----------------------------------------------------------------------------


def email_queue(*, to: str, template: str, context: dict[str, Any]) -> None:
    """Send the ``template`` email to ``to`` from a task, once the current transaction commits.

    The request never waits for the mail server. ``context`` must be JSON-safe (the task's
    arguments); the templates live in ``templates/accounts/email/`` (``accounts.emails``).
    """
    task_send_on_commit("accounts.tasks.email_send_task", to=to, template=template, context=context)


def _email_user(user: User) -> dict[str, str]:
    return {"email": user.email, "full_name": user.full_name}


# --- Registration and profile -----------------------------------------------------------


def _normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed("Enter a valid email address.", details={"email": exc.messages}) from exc
    return email


def _validate_password(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], code="weak_password", details={field: exc.messages}) from exc


def user_create(
    *,
    email: str,
    password: str,
    full_name: str = "",
    preferences: dict[str, Any] | None = None,
    send_verification: bool = True,
) -> User:
    """Register a user with a validated password; email addresses are unique case-insensitively."""
    email = _normalize_email(email)
    duplicate = ValidationFailed(
        "A user with this email address already exists.",
        code="email_taken",
        details={"email": ["A user with this email address already exists."]},
    )
    if user_email_taken(email=email):
        raise duplicate
    user = User(email=email, full_name=full_name.strip(), preferences=_clean_preferences(preferences or {}))
    _validate_password(password, user=user, field="password")
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent registration won the unique constraint
        raise duplicate from exc
    if send_verification:
        user_email_verification_send(user=user)
    return user


def _clean_preferences(preferences: Any) -> dict[str, Any]:
    if not isinstance(preferences, dict):
        raise ValidationFailed("Preferences must be a JSON object.", details={"preferences": ["Must be an object."]})
    if len(json.dumps(preferences)) > PREFERENCES_MAX_BYTES:
        message = f"Preferences must be at most {PREFERENCES_MAX_BYTES} bytes of JSON."
        raise ValidationFailed(message, details={"preferences": [message]})
    return preferences


def user_update(*, user: User, full_name: str | None = None, preferences: dict[str, Any] | None = None) -> User:
    """Change what a user may change about themselves; ``preferences`` replaces the whole object.

    Email, role, status and staff flags are deliberately not parameters: they change through
    staff tools only.
    """
    fields: list[str] = []
    if full_name is not None:
        user.full_name = full_name.strip()
        fields.append("full_name")
    if preferences is not None:
        user.preferences = _clean_preferences(preferences)
        fields.append("preferences")
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
    return user


# --- Login and tokens -------------------------------------------------------------------


def auth_tokens_issue(*, user: User) -> AuthTokens:
    refresh = RefreshToken.for_user(user)  # also records it as outstanding, for revocation
    return AuthTokens(access=str(refresh.access_token), refresh=str(refresh))


def user_login(*, email: str, password: str) -> tuple[User, AuthTokens]:
    """Check the credentials and issue a token pair.

    Wrong email and wrong password give the same error. A suspended user learns that the
    account is suspended only after giving the right password.
    """
    email = (email or "").strip()
    user = authenticate(None, email=email, password=password)
    if user is None:
        candidate = user_get_by_email(email=email)
        # Django's backend refuses inactive users before checking the password; tell them
        # why only when the password is right.
        if candidate is not None and not candidate.is_active and candidate.check_password(password):
            raise AccountSuspended("This account is suspended. Contact support.")
        raise AuthenticationFailed("Email or password is incorrect.", code="invalid_credentials")
    update_last_login(None, user)
    return user, auth_tokens_issue(user=user)


def _parse_refresh(refresh: str) -> RefreshToken:
    try:
        return RefreshToken(refresh)  # checks signature, expiry, type and the blacklist
    except TokenError as exc:
        raise AuthenticationFailed("The refresh token is invalid, expired or revoked.", code="token_not_valid") from exc


def auth_tokens_refresh(*, refresh: str) -> AuthTokens:
    """Rotate a refresh token: the given one is blacklisted and a new pair is issued.

    The outstanding row is locked so that two concurrent refreshes with the same token cannot
    both succeed.
    """
    token = _parse_refresh(refresh)
    user = user_get(user_id=token.get(jwt_settings.USER_ID_CLAIM))
    if user is None or not user.is_active:
        raise AuthenticationFailed("No active account found for this token.", code="no_active_account")
    with transaction.atomic():
        token.outstand()  # tokens we issued are recorded already; this covers older ones
        outstanding = OutstandingToken.objects.select_for_update().get(jti=token[jwt_settings.JTI_CLAIM])
        if BlacklistedToken.objects.filter(token=outstanding).exists():
            raise AuthenticationFailed("The refresh token is invalid, expired or revoked.", code="token_not_valid")
        BlacklistedToken.objects.create(token=outstanding)
    return auth_tokens_issue(user=user)


def auth_logout(*, refresh: str, user: User | None = None) -> None:
    """Blacklist one refresh token (the session that logs out). Already-revoked is a success.

    When ``user`` is given the token must be theirs, so one user cannot log another out.
    """
    invalid = AuthenticationFailed("The refresh token is invalid or expired.", code="token_not_valid")
    try:
        # Signature and expiry only: a token that is already blacklisted is already logged out.
        checked = UntypedToken(refresh)
    except TokenError as exc:
        raise invalid from exc
    if checked.get(jwt_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type:
        raise invalid
    if user is not None and str(checked.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise AuthenticationFailed("The refresh token belongs to another account.", code="token_not_valid")
    RefreshToken(refresh, verify=False).blacklist()


def user_tokens_revoke(*, user: User) -> int:
    """Blacklist every unexpired refresh token of the user (password change, suspension)."""
    pending = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- Passwords --------------------------------------------------------------------------


def _password_set(*, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    user_tokens_revoke(user=user)


def user_password_change(*, user: User, old_password: str, new_password: str) -> AuthTokens:
    """Change the password knowing the old one; every other session is logged out.

    Returns a fresh token pair so the session that made the change stays logged in.
    """
    if not user.check_password(old_password):
        message = "The current password is incorrect."
        raise ValidationFailed(message, code="invalid_password", details={"old_password": [message]})
    _validate_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        _password_set(user=user, password=new_password)
    return auth_tokens_issue(user=user)


def user_password_reset_request(*, email: str) -> None:
    """Email a reset link if an active account has this email; silently nothing otherwise.

    The caller answers the same either way, so the endpoint does not reveal who has an account.
    """
    user = user_get_by_email(email=email or "")
    if user is None or not user.is_active or not user.has_usable_password():
        logger.info("Password reset asked for an unknown or inactive account")
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    query = urlencode({"uid": uid, "token": default_token_generator.make_token(user)})
    context = {
        "user": _email_user(user),
        "reset_url": f"{settings.FRONTEND_URL.rstrip('/')}/reset-password?{query}",
        "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
    }
    email_queue(template="password_reset", to=user.email, context=context)


def user_password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link. The token dies with the password change."""
    user = user_get_by_uidb64(uidb64=uidb64 or "")
    if user is None or not default_token_generator.check_token(user, token or ""):
        raise InvalidToken("The password reset link is invalid or has expired.")
    _validate_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        _password_set(user=user, password=new_password)
    return user


# --- Email verification -----------------------------------------------------------------


def _email_verification_token(*, user: User) -> str:
    signer = signing.TimestampSigner(salt=EMAIL_VERIFICATION_SALT)
    return signer.sign_object({"uid": str(user.pk), "email": user.email})


def user_email_verification_send(*, user: User) -> None:
    if user.is_email_verified:
        raise Conflict("This email address is already verified.", code="already_verified")
    query = urlencode({"token": _email_verification_token(user=user)})
    context = {
        "user": _email_user(user),
        "verify_url": f"{settings.FRONTEND_URL.rstrip('/')}/verify-email?{query}",
        "valid_days": EMAIL_VERIFICATION_MAX_AGE.days,
    }
    email_queue(template="verify_email", to=user.email, context=context)


def user_email_verify(*, token: str) -> User:
    """Mark the email of the token's user as verified (idempotent for the same address)."""
    signer = signing.TimestampSigner(salt=EMAIL_VERIFICATION_SALT)
    try:
        payload = signer.unsign_object(token or "", max_age=EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidToken("The verification link has expired. Ask for a new one.", code="token_expired") from exc
    except signing.BadSignature as exc:
        raise InvalidToken("The verification link is invalid.") from exc
    user = user_get(user_id=payload.get("uid")) if isinstance(payload, dict) else None
    # A link sent to an address the account no longer has proves nothing.
    if user is None or user.email.lower() != str(payload.get("email", "")).lower():
        raise InvalidToken("The verification link is invalid.")
    if not user.is_email_verified:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at", "updated_at"])
    return user


# --- Staff operations -------------------------------------------------------------------


def user_suspend(*, user: User) -> User:
    """Suspend a user: no login, refresh tokens revoked, access tokens refused from now on."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.status != User.Status.SUSPENDED:
            user.status = User.Status.SUSPENDED
            user.save(update_fields=["status", "updated_at"])
        user_tokens_revoke(user=user)
    return user


def user_reactivate(*, user: User) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.status != User.Status.ACTIVE:
            user.status = User.Status.ACTIVE
            user.save(update_fields=["status", "updated_at"])
    return user


def user_staff_login_ensure(*, email: str) -> tuple[User, str, bool]:
    """Create a superuser with this email, or reset its password if it exists.

    The password is random on every call and returned once; there is never a default.
    Returns ``(user, password, created)``.
    """
    email = _normalize_email(email)
    password = secrets.token_urlsafe(16)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        created = user is None
        if user is None:
            user = User.objects.create_superuser(email=email, password=password, full_name="Staff")
        else:
            user.is_staff = True
            user.is_superuser = True
            user.role = User.Role.SUPERADMIN
            user.status = User.Status.ACTIVE
            user.save(update_fields=["is_staff", "is_superuser", "role", "status", "updated_at"])
            _password_set(user=user, password=password)
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at", "updated_at"])
    return user, password, created
