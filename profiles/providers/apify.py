"""The Apify Instagram scraper (``apify~instagram-scraper``) over its HTTP API.

One fetch is one synchronous actor run in "details" mode:
``POST {APIFY_BASE_URL}/v2/acts/{APIFY_ACTOR_ID}/run-sync-get-dataset-items?token=...`` with
``{"directUrls": ["https://www.instagram.com/<username>/"], "resultsType": "details",
"resultsLimit": 12}``; the answer is the dataset's items (one profile item, or an error item).

Each fetch is ONE request: every request is paid, and retrying is the scrape task's job (the
project's one retry policy, ``config.tasks``). Transient failures (connection errors, timeouts,
408, 429, 5xx) raise a retryable error carrying the response's ``Retry-After``, which becomes
the task's countdown; everything else fails at once with a clear ``ProviderError``. A circuit
breaker shared through the cache stops calls while Apify is down.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings

from profiles.providers.base import (
    CallInfo,
    ProfileNotFound,
    ProfilePrivate,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    ScrapedProfile,
    TransientProviderError,
)
from profiles.providers.breaker import CircuitBreaker
from profiles.providers.normalize import InvalidItem, profile_from_details, raise_for_error_item, valid_username

logger = logging.getLogger(__name__)

_RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
RESULTS_LIMIT = 12


class ApifyProvider:
    name = "apify"

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        actor_id: str | None = None,
        session: requests.Session | None = None,
    ):
        self.token = token if token is not None else settings.APIFY_TOKEN
        self.base_url = (base_url or settings.APIFY_BASE_URL).rstrip("/")
        self.actor_id = actor_id or settings.APIFY_ACTOR_ID
        self.session = session or requests.Session()
        self.timeout = (settings.SCRAPER_CONNECT_TIMEOUT, settings.SCRAPER_READ_TIMEOUT)
        self.breaker = CircuitBreaker(self.name)

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/v2/acts/{self.actor_id}/run-sync-get-dataset-items"

    def fetch(self, username: str, *, call: CallInfo | None = None) -> ScrapedProfile:
        call = call if call is not None else CallInfo()
        username = valid_username(username)
        if not username:
            raise ProfileNotFound("Not a valid Instagram username.")
        if not self.token:
            raise ProviderError("APIFY_TOKEN is not set: the apify provider cannot be used.", username=username)
        if self.breaker.is_open():
            raise ProviderUnavailable(
                f"Apify is failing: calls paused for {self.breaker.seconds_until_retry():.0f}s.", username=username
            )
        try:
            items = self._request(username, call)
        except ProviderError as exc:
            # Only the provider's own trouble counts against it, not a missing or private profile.
            if exc.retryable:
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            raise
        self.breaker.record_success()
        call.results_returned = len(items)
        return self._profile(username, items)

    def _payload(self, username: str) -> dict[str, Any]:
        return {
            "directUrls": [f"https://www.instagram.com/{username}/"],
            "resultsType": "details",
            "resultsLimit": RESULTS_LIMIT,
            "addParentData": False,
        }

    def _request(self, username: str, call: CallInfo) -> list[Any]:
        """One request to the actor; a transient failure raises a retryable error."""
        call.attempts = 1
        try:
            response = self.session.post(
                self.endpoint, params={"token": self.token}, json=self._payload(username), timeout=self.timeout
            )
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            # The URL carries the token: only the exception's type goes into messages.
            raise TransientProviderError(f"Apify unreachable: {type(exc).__name__}", username=username) from None
        except requests.RequestException as exc:
            raise ProviderError(f"Apify request failed: {type(exc).__name__}", username=username) from None
        call.http_status = response.status_code
        if response.status_code in _RETRY_STATUSES:
            error_class = RateLimited if response.status_code == 429 else TransientProviderError
            raise error_class(
                f"Apify answered HTTP {response.status_code}",
                username=username,
                http_status=response.status_code,
                retry_after=_retry_after(response),
            )
        return self._items(response, username)

    def _items(self, response: requests.Response, username: str) -> list[Any]:
        status = response.status_code
        if status == 404:
            raise ProfileNotFound(f"@{username} was not found (HTTP 404).", username=username, http_status=status)
        if status >= 400:
            detail = _error_message(response)
            raise ProviderError(
                f"Apify refused the request: HTTP {status} {detail}".strip(), username=username, http_status=status
            )
        try:
            items = response.json()
        except ValueError as exc:
            raise TransientProviderError(
                "Apify returned a body that is not JSON.", username=username, http_status=status
            ) from exc
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            raise TransientProviderError("Apify returned an unexpected body.", username=username, http_status=status)
        return items

    def _profile(self, username: str, items: list[Any]) -> ScrapedProfile:
        items = [item for item in items if isinstance(item, dict)]
        if not items:
            raise ProfileNotFound(f"@{username} was not found (empty dataset).", username=username)
        # The dataset holds the requested profile, or an error item for it.
        match = next((i for i in items if valid_username(i.get("username")) == username), items[0])
        raise_for_error_item(match, username)
        try:
            profile = profile_from_details(match)
        except InvalidItem as exc:
            raise ProfileNotFound(
                f"@{username}: the provider returned no usable profile ({exc}).", username=username
            ) from exc
        if profile.is_private and not profile.posts:
            raise ProfilePrivate(f"@{username} is private.", username=username)
        return profile


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))[:300]
    return ""
