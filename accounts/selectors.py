"""Reads of users: one place for the lookups the services, views and commands share."""

import uuid

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts.models import User


def user_get(*, user_id: uuid.UUID | str) -> User | None:
    try:
        return User.objects.get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        return None


def user_get_by_email(*, email: str) -> User | None:
    """The user with this email, compared case-insensitively (the login is case-insensitive)."""
    return User.objects.filter(email__iexact=email.strip()).first()


def user_email_taken(*, email: str, exclude_user_id: uuid.UUID | None = None) -> bool:
    qs = User.objects.filter(email__iexact=email.strip())
    if exclude_user_id is not None:
        qs = qs.exclude(pk=exclude_user_id)
    return qs.exists()


def user_get_by_uidb64(*, uidb64: str) -> User | None:
    """Decode the ``uid`` of a password-reset link; ``None`` for anything malformed."""
    try:
        user_id = uuid.UUID(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return user_get(user_id=user_id)


def user_list(*, role: str | None = None, status: str | None = None) -> QuerySet[User]:
    qs = get_user_model().objects.all()
    if role:
        qs = qs.filter(role=role)
    if status:
        qs = qs.filter(status=status)
    return qs
