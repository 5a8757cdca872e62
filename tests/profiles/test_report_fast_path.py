"""The cached report's fast path: same bytes as the DRF view, same refusals, same throttle.

Requests here carry a real JWT (``Authorization: Bearer``), as clients do: the fast path
never sees ``force_authenticate``. Whether a request was answered by the fast path is told
by counting calls of DRF's ``APIView.dispatch`` (the fallback) and by its queries (none).
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services as account_services
from accounts.auth_cache import auth_record_key
from config.cache import breaker
from config.shapes import to_data
from profiles.api import fast_path
from profiles.models import Profile
from profiles.selectors import access_key
from profiles.selectors import report as reports
from profiles.services.access import access_grant, access_revoke
from tests.config.subprocess_settings import load_settings
from tests.factories import UserFactory, account_of, team_of

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search/creator/{}"


@pytest.fixture
def unlocked(analysed, user, django_capture_on_commit_callbacks) -> Profile:
    with django_capture_on_commit_callbacks(execute=True):
        access_grant(team=team_of(user), profile=analysed)
    return analysed


def _bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def slow_calls(monkeypatch) -> list[str]:
    """The paths of the requests that DRF's dispatch answered (the fast path declined them)."""
    calls: list[str] = []
    dispatch = APIView.dispatch

    def counting(self, request, *args, **kwargs):
        calls.append(request.path)
        return dispatch(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "dispatch", counting)
    return calls


def _warm(client: APIClient, username: str = "humansofny"):
    """The DRF view's answer, then one fast one that caches the user's auth record (one query)."""
    first = client.get(SEARCH.format(username))
    assert client.get(SEARCH.format(username)).content == first.content
    return first


def _fast_get(client: APIClient, username: str = "humansofny"):
    """A request that must be answered by the fast path: no query, no DRF dispatch."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SEARCH.format(username))
    assert not queries.captured_queries, [q["sql"] for q in queries.captured_queries]
    return response


def test_fast_path_sends_the_drf_views_bytes_and_headers(unlocked, user, slow_calls, monkeypatch):
    client = _bearer(user)
    first = _warm(client)  # the DRF view warms lookup, access and report; the fast path the auth record
    assert first.status_code == 200 and slow_calls == [SEARCH.format("humansofny")]

    fast = _fast_get(client)
    assert fast.status_code == 200
    assert slow_calls == [SEARCH.format("humansofny")]  # not dispatched by DRF this time
    assert fast.content == first.content
    body = json.loads(fast.content)
    assert body["locked"] is False and body["job"] is None and body["access"]["via"] == "unlock"
    assert list(body["report"]) == list(reports.SECTIONS) and len(body["report"]["posts"]) == 12

    # The DRF view again, now from the same cache: the same bytes and headers.
    monkeypatch.setattr(fast_path, "cached_report_response", lambda request, username, **kwargs: None)
    slow = client.get(SEARCH.format("humansofny"))
    assert slow.content == fast.content
    for header in ("Content-Type", "Allow", "Vary"):
        assert fast[header] == slow[header], header


def test_the_cached_report_json_is_what_drf_renders(unlocked):
    built = to_data(reports.report_build(profile=unlocked))
    cached = reports.report_json(profile_id=unlocked.pk)
    assert cached == reports.render_json(built)
    assert reports.report_get(profile_id=unlocked.pk) == json.loads(reports.render_json(built))


def test_staff_without_an_unlock_gets_the_report_on_the_fast_path(analysed, staff_user, slow_calls):
    client = _bearer(staff_user)
    first = _warm(client)
    fast = _fast_get(client)
    assert len(slow_calls) == 1
    assert fast.content == first.content
    assert fast.json()["access"] == {"granted_at": None, "expires_at": None, "via": "staff"}


def test_suspended_user_is_refused_at_once(unlocked, user, slow_calls):
    client = _bearer(user)
    _warm(client)
    assert _fast_get(client).status_code == 200
    assert cache.get(auth_record_key(user.pk)) is not None

    account_services.user_suspend(user=user)
    response = client.get(SEARCH.format("humansofny"))
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "user_inactive"
    assert slow_calls[-1] == SEARCH.format("humansofny")


def test_token_issued_before_a_password_change_is_refused_at_once(unlocked, user):
    client = _bearer(user)
    _warm(client)
    assert _fast_get(client).status_code == 200

    user.set_password("a-new-password-42")
    user.save()
    response = client.get(SEARCH.format("humansofny"))
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "password_changed"
    # A token issued after the change works, on the fast path again.
    fresh = _bearer(user)
    assert _warm(fresh).status_code == 200
    assert _fast_get(fresh).status_code == 200


def test_a_stale_cached_auth_record_cannot_let_a_suspended_user_in(unlocked, user, slow_calls):
    """Even if the record were re-cached by a concurrent request, a save drops it again."""
    client = _bearer(user)
    _warm(client)
    _fast_get(client)
    user.status = user.Status.SUSPENDED
    user.save(update_fields=["status"])
    assert cache.get(auth_record_key(user.pk)) is None
    assert client.get(SEARCH.format("humansofny")).status_code == 401


def test_bad_and_expired_tokens_get_the_drf_views_401(unlocked, user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get(SEARCH.format("humansofny"))
    assert response.status_code == 401 and set(response.json()) == {"error"}

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-token.lifetime - token.lifetime)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(SEARCH.format("humansofny")).status_code == 401


def test_fast_path_is_throttled_with_retry_after(unlocked, user, slow_calls, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100/min", "user": "3/min"})
    client = _bearer(user)
    _warm(client)  # the DRF view (1 of 3) and the fast path (2 of 3)
    assert _fast_get(client).status_code == 200  # 3 of 3
    assert len(slow_calls) == 1  # the last two were counted by the fast path itself
    response = client.get(SEARCH.format("humansofny"))
    assert response.status_code == 429, response.content
    assert response.json()["error"]["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_revoked_access_is_locked_at_once(unlocked, user, django_capture_on_commit_callbacks):
    client = _bearer(user)
    _warm(client)
    assert _fast_get(client).json()["locked"] is False
    with django_capture_on_commit_callbacks(execute=True):
        access_revoke(team_id=account_of(user), profile=unlocked)
    assert cache.get(access_key(account_of(user), unlocked.pk)) is None
    body = client.get(SEARCH.format("humansofny")).json()
    assert body["locked"] is True and "report" not in body


def test_expired_cached_access_is_locked(unlocked, user):
    from datetime import timedelta

    from django.utils import timezone

    client = _bearer(user)
    client.get(SEARCH.format("humansofny"))
    key = access_key(account_of(user), unlocked.pk)
    payload = cache.get(key)
    payload["expires_at"] = timezone.now() - timedelta(seconds=1)
    cache.set(key, payload)  # the cache still holds it, but it has ended
    assert client.get(SEARCH.format("humansofny")).json()["locked"] is True


def test_other_users_without_access_get_the_locked_preview(unlocked, other_user, slow_calls):
    client = _bearer(other_user)
    client.get(SEARCH.format("humansofny"))
    body = client.get(SEARCH.format("humansofny")).json()
    assert body["locked"] is True and body["unlock"]["price_credits"] == 25
    assert len(slow_calls) == 2  # declined by the fast path both times


def test_negotiated_and_queried_requests_go_to_the_drf_view(unlocked, user, slow_calls):
    client = _bearer(user)
    plain = client.get(SEARCH.format("humansofny"))
    pretty = client.get(SEARCH.format("humansofny"), HTTP_ACCEPT="application/json; indent=2")
    assert len(slow_calls) == 2 and json.loads(pretty.content) == json.loads(plain.content)
    assert pretty.content != plain.content  # indented: DRF rendered it
    client.get(SEARCH.format("humansofny") + "?format=json")
    assert len(slow_calls) == 3


# --- the creator lookup after a profile is deleted and made again -------------------------------


def test_lookup_follows_a_profile_deleted_and_created_again(unlocked, user):
    client = _bearer(user)
    assert client.get(SEARCH.format("humansofny")).status_code == 200
    old_id = reports.creator_lookup(username="humansofny")["id"]
    assert cache.get(reports.lookup_key("humansofny")) is not None

    unlocked.delete()
    assert cache.get(reports.lookup_key("humansofny")) is None
    assert cache.get(reports.report_key(old_id)) is None
    again = Profile.objects.create(username="humansofny")
    assert reports.creator_lookup(username="humansofny")["id"] == str(again.pk) != old_id
    # Not analysed yet: 404 (no stale report, no 500).
    response = client.get(SEARCH.format("humansofny"))
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "creator_not_found"


# --- Redis down -----------------------------------------------------------------------------------


@pytest.fixture
def redis_down() -> Iterator[None]:
    caches = copy.deepcopy(load_settings(["CACHES"], REDIS_URL="redis://127.0.0.1:1/0")["CACHES"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caches["default"]["LOCATION"] = f"redis://127.0.0.1:{port}/0"
    breaker.reset()
    with override_settings(CACHES=caches):
        yield
    breaker.reset()


def test_redis_down_falls_back_to_the_database(unlocked, user, redis_down):
    client = _bearer(user)
    responses = [client.get(SEARCH.format("humansofny")) for _ in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.content for r in responses}) == 1
    body = responses[0].json()
    assert body["locked"] is False and len(body["report"]["posts"]) == 12
    other = UserFactory()
    assert _bearer(other).get(SEARCH.format("humansofny")).json()["locked"] is True


# --- what the fast path keeps in process memory ---------------------------------------------------


def test_a_wrong_profile_id_hint_costs_a_read_not_a_wrong_answer(unlocked, user, slow_calls):
    client = _bearer(user)
    first = _warm(client)
    fast_path._profile_ids["humansofny"] = "00000000-0000-0000-0000-000000000000"
    assert _fast_get(client).content == first.content
    assert fast_path._profile_ids["humansofny"] == str(unlocked.pk)
    assert len(slow_calls) == 1


def test_a_remembered_token_is_refused_once_it_expires(user, monkeypatch):
    from datetime import timedelta

    from django.test import RequestFactory

    from accounts import auth_cache

    token = AccessToken.for_user(user)
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert auth_cache.jwt_token(request)["user_id"] == str(user.pk)
    assert str(token).encode() in auth_cache._validated  # remembered
    later = auth_cache.aware_utcnow() + token.lifetime + timedelta(seconds=1)
    monkeypatch.setattr(auth_cache, "aware_utcnow", lambda: later)
    assert auth_cache.jwt_token(request) is None


def test_a_user_suspended_while_redis_was_unreachable_is_refused_once_it_is_back(
    unlocked, user, slow_calls, monkeypatch
):
    """Issue 15 #5: the suspension's delete of the cached auth record failed (Redis down);
    before, Redis came back with the stale 'active' record and the fast path served the
    suspended user for up to AUTH_RECORD_SECONDS. Now the failed delete is replayed first."""
    import redis

    from config import cache as resilient

    redis_cache = getattr(cache, "client", None)  # the local-memory cache has none
    if redis_cache is None or not isinstance(redis_cache.get_client(), resilient.ResilientRedis):
        pytest.skip("needs the Redis cache (REDIS_URL)")
    client = _bearer(user)
    _warm(client)
    assert _fast_get(client).status_code == 200
    assert cache.get(auth_record_key(user.pk)) is not None
    real = redis.Redis.execute_command

    def unreachable(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Redis is down (test)")

    monkeypatch.setattr(redis.Redis, "execute_command", unreachable)
    user.status = user.Status.SUSPENDED
    user.save(update_fields=["status"])  # its delete of the cached record cannot reach Redis
    monkeypatch.setattr(redis.Redis, "execute_command", real)
    breaker.reset()  # Redis is back
    assert client.get(SEARCH.format("humansofny")).status_code == 401
    record = cache.get(auth_record_key(user.pk))
    assert record is None or record["active"] is False
