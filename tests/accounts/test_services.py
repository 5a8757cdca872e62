"""accounts services against the real database: the rules hold whoever calls them."""

import re
import time
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail, signing
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services
from accounts.errors import AccountSuspended, AuthenticationFailed, InvalidToken
from accounts.models import User
from config.errors import Conflict, ValidationFailed
from tests.factories import SuspendedUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def _token(message) -> str:
    url = re.search(r"https?://\S+", message.body).group(0)
    return parse_qs(urlparse(url).query)["token"][0]


def test_user_create_normalizes_email_and_sends_verification(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_create(email="  Mixed.Case@Example.COM ", password=PASSWORD, full_name=" A B ")
    assert user.email == "mixed.case@example.com"
    assert user.full_name == "A B"
    assert user.check_password(PASSWORD)
    assert user.role == User.Role.USER and user.is_active and not user.is_email_verified
    assert len(mail.outbox) == 1
    assert "/verify-email?token=" in mail.outbox[0].body


def test_user_create_rejects_duplicate_case_insensitively():
    UserFactory(email="dup@example.com")
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(email="DUP@example.com", password=PASSWORD)
    assert exc.value.code == "email_taken" and "email" in exc.value.details


def test_user_create_validates_password_against_the_user():
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(email="jonathan.smithers@example.com", password="jonathan.smithers")
    assert any("too similar" in m for m in exc.value.details["password"])
    assert not User.objects.exists()


def test_user_create_rejects_bad_email():
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(email="nope", password=PASSWORD)
    assert "email" in exc.value.details


def test_user_update_only_touches_given_fields():
    user = UserFactory(full_name="Before", preferences={"a": 1})
    services.user_update(user=user, preferences={"b": 2})
    user.refresh_from_db()
    assert user.full_name == "Before" and user.preferences == {"b": 2}
    with pytest.raises(ValidationFailed):
        services.user_update(user=user, preferences={"blob": "x" * (services.PREFERENCES_MAX_BYTES + 1)})


def test_user_login_checks_credentials_and_status():
    user = UserFactory()
    logged_in, tokens = services.user_login(email=user.email.upper(), password=PASSWORD)
    assert logged_in == user and tokens.access and tokens.refresh
    assert OutstandingToken.objects.filter(user=user).count() == 1
    with pytest.raises(AuthenticationFailed):
        services.user_login(email=user.email, password="wrong")
    suspended = SuspendedUserFactory()
    with pytest.raises(AccountSuspended):
        services.user_login(email=suspended.email, password=PASSWORD)
    with pytest.raises(AuthenticationFailed):
        services.user_login(email=suspended.email, password="wrong")


def test_user_suspend_revokes_refresh_tokens_and_reactivate_restores_login():
    user = UserFactory()
    _, tokens = services.user_login(email=user.email, password=PASSWORD)
    services.user_suspend(user=user)
    user.refresh_from_db()
    assert user.status == User.Status.SUSPENDED and not user.is_active
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    services.user_suspend(user=user)  # idempotent
    services.user_reactivate(user=user)
    user.refresh_from_db()
    assert user.is_active
    # The old refresh token stays revoked after reactivation.
    with pytest.raises(AuthenticationFailed):
        services.auth_tokens_refresh(refresh=tokens.refresh)


def test_auth_tokens_refresh_is_single_use():
    user = UserFactory()
    tokens = services.auth_tokens_issue(user=user)
    rotated = services.auth_tokens_refresh(refresh=tokens.refresh)
    assert rotated.refresh != tokens.refresh
    with pytest.raises(AuthenticationFailed):
        services.auth_tokens_refresh(refresh=tokens.refresh)


def test_auth_logout_checks_owner():
    user, other = UserFactory(), UserFactory()
    tokens = services.auth_tokens_issue(user=user)
    with pytest.raises(AuthenticationFailed):
        services.auth_logout(refresh=tokens.refresh, user=other)
    services.auth_logout(refresh=tokens.refresh, user=user)
    assert BlacklistedToken.objects.filter(token__jti__isnull=False, token__user=user).count() == 1


def test_user_tokens_revoke_skips_already_revoked():
    user = UserFactory()
    services.auth_tokens_issue(user=user)
    services.auth_tokens_issue(user=user)
    assert services.user_tokens_revoke(user=user) == 2
    assert services.user_tokens_revoke(user=user) == 0


def test_password_reset_request_sends_only_to_active_users(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.user_password_reset_request(email="ghost@example.com")
        services.user_password_reset_request(email=SuspendedUserFactory().email)
    assert mail.outbox == []
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_password_reset_request(email=user.email)
    assert len(mail.outbox) == 1 and "reset-password?uid=" in mail.outbox[0].body


def test_password_reset_confirm_validates_token_and_password():
    user = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    with pytest.raises(InvalidToken):
        services.user_password_reset_confirm(uidb64=uid, token="bad-token", new_password="a-new-passphrase-1")
    with pytest.raises(ValidationFailed) as exc:
        services.user_password_reset_confirm(uidb64=uid, token=token, new_password="12345678")
    assert "new_password" in exc.value.details
    services.user_password_reset_confirm(uidb64=uid, token=token, new_password="a-new-passphrase-1")
    user.refresh_from_db()
    assert user.check_password("a-new-passphrase-1")


def test_email_verify_token_expires_and_is_bound_to_the_address(django_capture_on_commit_callbacks):
    user = UserFactory()
    issued_at = time.time() - services.EMAIL_VERIFICATION_MAX_AGE.total_seconds() - 5
    with (
        mock.patch("django.core.signing.time.time", return_value=issued_at),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.user_email_verification_send(user=user)
    old_token = _token(mail.outbox[0])
    with pytest.raises(InvalidToken) as exc:
        services.user_email_verify(token=old_token)
    assert exc.value.code == "token_expired"

    with django_capture_on_commit_callbacks(execute=True):
        services.user_email_verification_send(user=user)
    token = _token(mail.outbox[1])
    user.email = "changed@example.com"
    user.save()
    with pytest.raises(InvalidToken) as exc:
        services.user_email_verify(token=token)
    assert exc.value.code == "invalid_token"
    forged = signing.TimestampSigner(salt="other").sign_object({"uid": str(user.pk), "email": user.email})
    with pytest.raises(InvalidToken):
        services.user_email_verify(token=forged)
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_email_verify_sets_timestamp_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_email_verification_send(user=user)
    token = _token(mail.outbox[0])
    verified = services.user_email_verify(token=token)
    first = verified.email_verified_at
    assert first is not None
    assert services.user_email_verify(token=token).email_verified_at == first
    with pytest.raises(Conflict):
        services.user_email_verification_send(user=verified)


def test_user_staff_login_ensure_creates_then_resets():
    user, first, created = services.user_staff_login_ensure(email="Ops@Example.com")
    assert created and user.email == "ops@example.com"
    assert user.is_staff and user.is_superuser and user.role == User.Role.SUPERADMIN and user.is_active
    assert len(first) >= 20
    services.user_suspend(user=user)
    again, second, created = services.user_staff_login_ensure(email="ops@example.com")
    assert not created and again.pk == user.pk and second != first
    again.refresh_from_db()
    assert again.is_active and again.check_password(second) and not again.check_password(first)
    assert User.objects.count() == 1


def test_emails_leave_the_request_through_a_task_on_commit(django_capture_on_commit_callbacks, monkeypatch):
    from accounts import tasks
    from config.celery import app

    queued = []
    monkeypatch.setattr(tasks.email_send_task, "delay", lambda **kwargs: queued.append(kwargs))
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.user_password_reset_request(email=user.email)
    assert queued == [] and mail.outbox == []  # nothing is sent inside the transaction
    for callback in callbacks:
        callback()
    (message,) = queued
    assert message["to"] == user.email and message["template"] == "password_reset"
    assert message["context"]["user"] == {"email": user.email, "full_name": user.full_name}
    assert tasks.email_send_task.declared_queue == "default"
    assert app.amqp.router.route({}, tasks.email_send_task.name)["queue"].name == "default"
    # The task renders and sends it (JSON-safe arguments, as a worker receives them).
    assert tasks.email_send_task.apply(kwargs=message).get() is True
    assert mail.outbox[0].to == [user.email] and "reset-password?uid=" in mail.outbox[0].body


def test_email_queue_is_generic(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.email_queue(
            to="someone@example.com",
            template="verify_email",
            context={"user": {"email": "someone@example.com", "full_name": ""}, "verify_url": "https://x.test/v"},
        )
    assert mail.outbox[0].to == ["someone@example.com"] and "https://x.test/v" in mail.outbox[0].body
