"""The User admin: it loads, searches, creates email logins, and its actions call the services."""

import pytest
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts import services
from accounts.models import User
from tests.factories import StaffUserFactory, SuspendedUserFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


@pytest.fixture
def admin_client(client):
    admin = StaffUserFactory(email="boss@example.com")
    client.force_login(admin)
    client.admin = admin
    return client


def test_changelist_loads_and_searches_by_email(admin_client):
    UserFactory(email="findme@example.com")
    UserFactory(email="other@example.com")
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert b"Creator Analytics" in response.content
    response = admin_client.get(CHANGELIST, {"q": "findme"})
    assert response.status_code == 200
    assert b"findme@example.com" in response.content and b"other@example.com" not in response.content
    response = admin_client.get(CHANGELIST, {"status__exact": "suspended", "role__exact": "user"})
    assert response.status_code == 200


def test_changelist_refuses_non_staff(client):
    client.force_login(UserFactory())
    assert client.get(CHANGELIST).status_code == 302


def test_suspend_action_suspends_and_revokes_tokens(admin_client):
    target = UserFactory()
    services.auth_tokens_issue(user=target)
    response = admin_client.post(
        CHANGELIST, {"action": "suspend_users", "_selected_action": [str(target.pk), str(admin_client.admin.pk)]}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    admin_client.admin.refresh_from_db()
    assert target.status == User.Status.SUSPENDED
    assert admin_client.admin.status == User.Status.ACTIVE  # never yourself
    assert BlacklistedToken.objects.filter(token__user=target).exists()


def test_reactivate_action(admin_client):
    target = SuspendedUserFactory()
    admin_client.post(CHANGELIST, {"action": "reactivate_users", "_selected_action": [str(target.pk)]})
    target.refresh_from_db()
    assert target.status == User.Status.ACTIVE


def test_add_form_creates_an_email_login(admin_client):
    UserFactory(email="exists@example.com")
    url = reverse("admin:accounts_user_add")
    assert admin_client.get(url).status_code == 200
    password = "x-Strong-pass-42"
    data = {"email": "EXISTS@example.com", "usable_password": "true", "password1": password, "password2": password}
    response = admin_client.post(url, data)
    assert response.status_code == 200 and b"already exists" in response.content
    response = admin_client.post(url, {**data, "email": "Fresh@Example.com", "full_name": "Fresh"})
    assert response.status_code == 302, response.content
    created = User.objects.get(email="fresh@example.com")
    assert created.check_password("x-Strong-pass-42") and created.full_name == "Fresh"


def test_change_form_and_password_form_load(admin_client):
    target = UserFactory()
    change = reverse("admin:accounts_user_change", args=[target.pk])
    response = admin_client.get(change)
    assert response.status_code == 200 and target.email.encode() in response.content
    password_url = reverse("admin:auth_user_password_change", args=[target.pk])
    assert admin_client.get(password_url).status_code == 200
