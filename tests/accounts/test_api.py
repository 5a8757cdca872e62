"""The auth API end to end: status codes, the error envelope, tokens, emails, throttles."""

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
URL = "/api/v1/auth/"


def _error(response, status_code: int, code: str | None = None) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def _login(client: APIClient, email: str, password: str = PASSWORD):
    return client.post(URL + "login", {"email": email, "password": password}, format="json")


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _link(message, path: str) -> dict[str, str]:
    url = re.search(r"https?://\S+", message.body).group(0)
    parsed = urlparse(url)
    assert parsed.path == path
    return {key: values[0] for key, values in parse_qs(parsed.query).items()}


def test_register_login_me_with_jwt(anon_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(
            URL + "register", {"email": "New.Person@Example.com", "password": PASSWORD, "full_name": "New Person"}
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["full_name"] == "New Person"
    assert body["role"] == "user" and body["status"] == "active" and body["email_verified"] is False
    assert "password" not in body
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@example.com"]

    response = _login(anon_client, "NEW.person@example.com")
    assert response.status_code == 200, response.content
    tokens = response.json()
    assert set(tokens) == {"access", "refresh", "user"}
    assert tokens["user"]["id"] == body["id"]

    me = _bearer(tokens["access"]).get(URL + "me")
    assert me.status_code == 200
    assert me.json()["email"] == "new.person@example.com"
    assert me.json()["last_login"] is not None


def test_me_requires_authentication(anon_client):
    _error(anon_client.get(URL + "me"), 401)


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@Example.COM"])
def test_register_duplicate_email_is_a_field_error(anon_client, email):
    UserFactory(email="taken@example.com")
    error = _error(anon_client.post(URL + "register", {"email": email, "password": PASSWORD}), 400)
    assert error["code"] == "email_taken"
    assert "email" in error["details"]
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_register_weak_password_gives_field_errors(anon_client):
    error = _error(anon_client.post(URL + "register", {"email": "weak@example.com", "password": "123"}), 400)
    messages = error["details"]["password"]
    assert any("too short" in m for m in messages)
    assert any("numeric" in m for m in messages)
    assert not User.objects.filter(email="weak@example.com").exists()
    assert mail.outbox == []


def test_register_refuses_an_undeliverable_email_and_a_non_string_name(anon_client):
    body = {"email": "me@localhost", "password": "a-Long-pass-2026!", "full_name": 0}
    error = _error(anon_client.post(URL + "register", body, format="json"), 400, "invalid")
    assert set(error["details"]) == {"email", "full_name"}
    assert not User.objects.filter(email="me@localhost").exists()


def test_register_missing_fields(anon_client):
    error = _error(anon_client.post(URL + "register", {"email": "not-an-email"}), 400, "invalid")
    assert set(error["details"]) == {"email", "password"}


def test_wrong_password_is_401_in_error_format(anon_client, user):
    _error(_login(anon_client, user.email, "wrong-password-1"), 401, "invalid_credentials")
    # An unknown email is indistinguishable.
    _error(_login(anon_client, "nobody@example.com"), 401, "invalid_credentials")


def test_suspended_user_cannot_log_in_and_their_token_stops_working(anon_client, user):
    tokens = _login(anon_client, user.email).json()
    client = _bearer(tokens["access"])
    assert client.get(URL + "me").status_code == 200

    services.user_suspend(user=user)

    _error(_login(anon_client, user.email), 403, "account_suspended")
    # A wrong password does not reveal the suspension.
    _error(_login(anon_client, user.email, "wrong-password-1"), 401, "invalid_credentials")
    error = _error(client.get(URL + "me"), 401)
    # simplejwt's own code; the shared handler currently puts it in details.
    assert "user_inactive" in (error["code"], error["details"].get("code"))
    _error(anon_client.post(URL + "refresh", {"refresh": tokens["refresh"]}), 401)

    services.user_reactivate(user=user)
    assert _login(anon_client, user.email).status_code == 200


def _fresh_throttle_window(seconds: int = 60, margin: float = 10.0) -> None:
    """Start inside a fixed throttle window with room to spare (the counters are per window, so
    eleven requests straddling a boundary would be counted in two windows)."""
    remaining = seconds - time.time() % seconds
    if remaining < margin:
        time.sleep(remaining + 0.05)


def test_eleventh_rapid_login_is_throttled_with_retry_after(anon_client, user):
    _fresh_throttle_window()
    for _ in range(10):
        assert _login(anon_client, user.email, "wrong-password-1").status_code == 401
    response = _login(anon_client, user.email, "wrong-password-1")
    error = _error(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert error["details"]["retry_after"] == retry_after
    # Even the right password waits.
    assert _login(anon_client, user.email).status_code == 429


def test_login_throttle_counts_per_email_across_clients(user):
    _fresh_throttle_window()
    for i in range(10):
        client = APIClient(REMOTE_ADDR=f"10.0.0.{i + 1}")
        assert _login(client, user.email, "wrong-password-1").status_code == 401
    _error(_login(APIClient(REMOTE_ADDR="10.0.1.1"), user.email.upper()), 429)
    # Another account from a fresh client is not affected.
    other = UserFactory()
    assert _login(APIClient(REMOTE_ADDR="10.0.1.2"), other.email).status_code == 200


def test_refresh_rotates_and_blacklists(anon_client, user):
    first = _login(anon_client, user.email).json()
    response = anon_client.post(URL + "refresh", {"refresh": first["refresh"]})
    assert response.status_code == 200, response.content
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]
    assert _bearer(second["access"]).get(URL + "me").status_code == 200

    _error(anon_client.post(URL + "refresh", {"refresh": first["refresh"]}), 401, "token_not_valid")
    assert anon_client.post(URL + "refresh", {"refresh": second["refresh"]}).status_code == 200


def test_refresh_rejects_garbage_and_access_tokens(anon_client, user):
    _error(anon_client.post(URL + "refresh", {"refresh": "not-a-token"}), 401, "token_not_valid")
    access = _login(anon_client, user.email).json()["access"]
    _error(anon_client.post(URL + "refresh", {"refresh": access}), 401, "token_not_valid")
    _error(anon_client.post(URL + "refresh", {}), 400, "invalid")


def test_logout_blacklists_refresh_token(anon_client, user):
    tokens = _login(anon_client, user.email).json()
    assert anon_client.post(URL + "logout", {"refresh": tokens["refresh"]}).status_code == 204
    _error(anon_client.post(URL + "refresh", {"refresh": tokens["refresh"]}), 401, "token_not_valid")
    # Logging out twice is harmless; a forged token is not accepted.
    assert anon_client.post(URL + "logout", {"refresh": tokens["refresh"]}).status_code == 204
    _error(anon_client.post(URL + "logout", {"refresh": tokens["refresh"] + "x"}), 401, "token_not_valid")
    _error(anon_client.post(URL + "logout", {"refresh": tokens["access"]}), 401, "token_not_valid")


def test_me_patch_changes_only_name_and_preferences(api_client):
    user = api_client.user
    response = api_client.patch(
        URL + "me",
        {
            "full_name": "  Renamed  ",
            "preferences": {"theme": "dark"},
            "email": "hijack@example.com",
            "role": "superadmin",
            "status": "suspended",
            "is_staff": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["full_name"] == "Renamed" and body["preferences"] == {"theme": "dark"}
    user.refresh_from_db()
    assert (user.email, user.role, user.status, user.is_staff) == (body["email"], "user", "active", False)
    assert user.email != "hijack@example.com"
    assert user.preferences == {"theme": "dark"}


def test_me_patch_rejects_non_object_preferences(api_client):
    error = _error(api_client.patch(URL + "me", {"preferences": ["a"]}, format="json"), 400)
    assert "preferences" in error["details"]


def test_password_change(anon_client, user):
    tokens = _login(anon_client, user.email).json()
    client = _bearer(tokens["access"])
    new = "a-brand-new-passphrase-7"

    error = _error(client.post(URL + "password/change", {"old_password": "nope", "new_password": new}), 400)
    assert "old_password" in error["details"]
    error = _error(client.post(URL + "password/change", {"old_password": PASSWORD, "new_password": "short"}), 400)
    assert "new_password" in error["details"]

    response = client.post(URL + "password/change", {"old_password": PASSWORD, "new_password": new})
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}
    # Old sessions are logged out; the new pair works; only the new password logs in.
    _error(anon_client.post(URL + "refresh", {"refresh": tokens["refresh"]}), 401)
    assert anon_client.post(URL + "refresh", {"refresh": response.json()["refresh"]}).status_code == 200
    assert _login(anon_client, user.email).status_code == 401
    assert _login(anon_client, user.email, new).status_code == 200


def test_password_reset_flow_end_to_end(anon_client, user, django_capture_on_commit_callbacks):
    old_refresh = _login(anon_client, user.email).json()["refresh"]
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(URL + "password/reset", {"email": user.email.upper()})
    assert response.status_code == 202
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    params = _link(message, "/reset-password")
    assert message.alternatives and params["token"] in message.alternatives[0][0]

    new = "reset-to-this-passphrase-3"
    weak = anon_client.post(URL + "password/reset/confirm", {**params, "new_password": "password"})
    assert "new_password" in _error(weak, 400)["details"]
    response = anon_client.post(URL + "password/reset/confirm", {**params, "new_password": new})
    assert response.status_code == 200, response.content
    assert _login(anon_client, user.email, new).status_code == 200
    _error(anon_client.post(URL + "refresh", {"refresh": old_refresh}), 401)
    # The link works once.
    again = anon_client.post(URL + "password/reset/confirm", {**params, "new_password": "yet-another-phrase-5"})
    _error(again, 400, "invalid_token")


def test_password_reset_confirm_rejects_bad_links(anon_client, user):
    for uid, token in [("garbage", "garbage"), ("", "x"), ("MTIz", "1-2")]:
        body = {"uid": uid or "x", "token": token, "new_password": "reset-to-this-passphrase-3"}
        _error(anon_client.post(URL + "password/reset/confirm", body), 400)


def test_password_reset_for_unknown_email_is_identical_and_sends_nothing(
    anon_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = anon_client.post(URL + "password/reset", {"email": user.email})
        unknown = anon_client.post(URL + "password/reset", {"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_password_reset_is_throttled(anon_client, user):
    for _ in range(5):
        assert anon_client.post(URL + "password/reset", {"email": "ghost@example.com"}).status_code == 202
    response = anon_client.post(URL + "password/reset", {"email": "ghost@example.com"})
    _error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_email_verify_and_resend(anon_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        anon_client.post(URL + "register", {"email": "verify@example.com", "password": PASSWORD})
    params = _link(mail.outbox[0], "/verify-email")
    tokens = _login(anon_client, "verify@example.com").json()
    client = _bearer(tokens["access"])

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(URL + "email/verify/resend").status_code == 202
    assert len(mail.outbox) == 2
    _error(anon_client.post(URL + "email/verify", {"token": params["token"] + "x"}), 400, "invalid_token")

    response = anon_client.post(URL + "email/verify", {"token": params["token"]})
    assert response.status_code == 200, response.content
    assert response.json()["email_verified"] is True
    assert client.get(URL + "me").json()["email_verified_at"] is not None
    # Verified already: the link stays harmless, resending is refused.
    assert anon_client.post(URL + "email/verify", {"token": params["token"]}).status_code == 200
    _error(client.post(URL + "email/verify/resend"), 409, "already_verified")
    assert len(mail.outbox) == 2


def test_email_verify_resend_requires_authentication(anon_client):
    _error(anon_client.post(URL + "email/verify/resend"), 401)


def test_schema_documents_every_auth_endpoint(anon_client):
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "register": "post",
        "login": "post",
        "refresh": "post",
        "logout": "post",
        "me": "patch",
        "password/change": "post",
        "password/reset": "post",
        "password/reset/confirm": "post",
        "email/verify": "post",
    }
    for name, method in expected.items():
        operation = paths[f"/api/v1/auth/{name}"][method]
        assert "requestBody" in operation, name
        assert operation["responses"], name
    login = paths["/api/v1/auth/login"]["post"]
    assert {"200", "401", "429"} <= set(login["responses"])
    assert "get" in paths["/api/v1/auth/me"]
