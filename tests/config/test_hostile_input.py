"""Hostile and malformed input: bounded cache keys, no 500s, JSON errors, 503 without a database.

Each test here failed before its fix (issue 15, findings 1, 4, 6 and 8).
"""

import json

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.api.throttles import LoginEmailRateThrottle, PasswordResetEmailRateThrottle
from profiles.export_formats import cell_safe as _cell

pytestmark = pytest.mark.django_db


def _assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


class _Req:
    def __init__(self, data):
        self.data = data
        self.META = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.mark.parametrize("throttle_class", [LoginEmailRateThrottle, PasswordResetEmailRateThrottle])
def test_email_throttle_keys_are_bounded_whatever_the_client_sends(throttle_class):
    throttle = throttle_class()
    huge = "a" * (2 * 1024 * 1024) + "@example.com"
    assert throttle.get_cache_key(_Req({"email": huge}), None) is None  # not an address: not counted by email
    key = throttle.get_cache_key(_Req({"email": "Some.One@Example.com"}), None)
    assert key is not None and len(key) < 100
    assert "some.one" not in key  # hashed, not the raw value
    assert key == throttle.get_cache_key(_Req({"email": " some.one@example.com "}), None)


def test_ten_huge_login_emails_store_no_large_cache_value(anon_client):
    huge = "b" * (2 * 1024 * 1024) + "@example.com"
    for _ in range(10):
        response = anon_client.post("/api/v1/auth/login", {"email": huge, "password": "x"}, format="json")
        assert response.status_code in (400, 401, 413, 429)
    client = getattr(cache, "_cache", None)
    if hasattr(cache, "keys"):  # django-redis: the keys really stored in Redis
        keys = cache.keys("*")
        assert all(len(str(key)) < 200 for key in keys)
    elif client is not None:  # local memory: its dict of keys
        assert all(len(str(key)) < 200 for key in client)


def test_deeply_nested_json_is_a_400_not_a_500(api_client):
    body = "[" * 100_000 + "]" * 100_000
    response = api_client.patch("/api/v1/auth/me", data=body, content_type="application/json")
    _assert_error(response, 400, "parse_error")
    nested: list = ["x"]
    for _ in range(40):
        nested = [nested]
    body = json.dumps({"preferences": {"x": nested}})
    _assert_error(api_client.patch("/api/v1/auth/me", data=body, content_type="application/json"), 400)


def test_nul_characters_in_json_are_a_400(api_client):
    body = '{"full_name": "a\\u0000b", "preferences": {"k\\u0000": 1}}'
    response = api_client.patch("/api/v1/auth/me", data=body, content_type="application/json")
    _assert_error(response, 400, "parse_error")


def test_a_lone_surrogate_in_json_is_a_parse_error_and_a_pair_is_text(api_client):
    lone = '{"preferences": {"a": "x\\ud800y"}}'
    error = _assert_error(api_client.patch("/api/v1/auth/me", data=lone, content_type="application/json"), 400)
    assert error["code"] == "parse_error" and "surrogate" in error["message"]
    pair = '{"full_name": "Ann \\ud83d\\ude00"}'  # an escaped emoji: a valid pair
    response = api_client.patch("/api/v1/auth/me", data=pair, content_type="application/json")
    assert response.status_code == 200 and response.json()["full_name"] == "Ann \U0001f600"


def test_nul_characters_in_the_query_string_are_a_400(api_client):
    _assert_error(api_client.get("/api/v1/credits/transactions/search?q=a%00b"), 400, "invalid_input")
    _assert_error(api_client.get("/api/v1/search/creator/a%00b"), 400, "invalid_input")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_upload_limit_is_a_json_413(api_client, caplog):
    body = json.dumps({"full_name": "x" * 5000})
    with caplog.at_level("ERROR"):
        response = api_client.patch("/api/v1/auth/me", data=body, content_type="application/json")
    _assert_error(response, 413, "request_too_large")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_database_unreachable_is_a_503_with_retry_after(api_client, monkeypatch):
    from credits.api import views as credit_views

    def broken(*args, **kwargs):
        raise OperationalError("could not connect to server at 10.0.0.7:5432")

    view = credit_views.BalanceView
    monkeypatch.setattr(view, "get", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(api_client.user)
    response = client.get("/api/v1/credits/balance")
    error = _assert_error(response, 503, "database_unavailable")
    assert response["Retry-After"]
    assert "10.0.0.7" not in json.dumps(error)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_csv_formula_guard_covers_tab_and_carriage_return(text):
    assert _cell(text) == "'" + text


def test_more_query_parameters_than_django_parses_is_a_json_400(api_client):
    query = "&".join(f"a{i}=1" for i in range(1200))
    error = _assert_error(api_client.get(f"/api/v1/auth/me?{query}"), 400, "too_many_fields")
    assert error["details"]["limit"] == 1000


def test_requests_django_refuses_before_any_view_answer_in_the_error_format(rf):
    from django.core.exceptions import SuspiciousOperation

    from config.api.exceptions import handler400, handler403

    for handler, status in ((handler400, 400), (handler403, 403)):
        response = handler(rf.get("/api/v1/auth/me"), SuspiciousOperation("bad"))
        assert response.status_code == status
        assert set(json.loads(response.content)) == {"error"}
        assert handler(rf.get("/admin/"), SuspiciousOperation("bad")).status_code == status


def test_creating_a_team_without_the_trailing_slash_creates_it(api_client):
    from rest_framework_simplejwt.tokens import AccessToken

    token_client = APIClient(enforce_csrf_checks=True)  # as a real client: a token, no CSRF cookie
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(api_client.user)}")
    response = token_client.post("/api/v1/teams", {"name": "No Slash"}, format="json")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["team"]["name"] == "No Slash"
    listed = api_client.get("/api/v1/teams")
    assert listed.status_code == 200 and "No Slash" in [t["team"]["name"] for t in listed.json()]


@pytest.mark.parametrize("cycle", ["9999-12", "2999-01"])
def test_a_usage_cycle_far_in_the_future_is_a_400(api_client, cycle):
    from tests.factories import account_of

    team_id = account_of(api_client.user)
    response = api_client.get(f"/api/v1/teams/{team_id}/usage", {"cycle": cycle}, headers={"X-Team-ID": str(team_id)})
    _assert_error(response, 400, "cycle_out_of_range")


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_url_is_a_json_404_with_or_without_debug(api_client, settings, debug):
    settings.DEBUG = debug
    _assert_error(api_client.get("/api/v1/teams/not-a-uuid/members"), 404, "not_found")
    _assert_error(api_client.get("/api/v1/no-such-endpoint"), 404, "not_found")
    _assert_error(api_client.get("/api/v1/auth/me", HTTP_HOST="evil.example.com"), 400, "bad_request")
