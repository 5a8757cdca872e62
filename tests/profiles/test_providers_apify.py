"""The Apify client against a local HTTP server answering like Apify."""

from __future__ import annotations

import pytest

from profiles.models import ProviderCall
from profiles.providers import get_provider
from profiles.providers.apify import ApifyProvider
from profiles.providers.base import (
    CallInfo,
    ProfileNotFound,
    ProfilePrivate,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    TransientProviderError,
)


def test_request_shape_and_success(fake_apify, real_export):
    fake_apify.script((200, real_export))
    call = CallInfo()
    profile = ApifyProvider().fetch("@HumansOfNY", call=call)
    assert profile.username == "humansofny" and len(profile.posts) == 12 and len(profile.related) == 80
    (request,) = fake_apify.requests
    assert request["path"] == "/v2/acts/apify~instagram-scraper/run-sync-get-dataset-items?token=test-token"
    assert request["body"]["directUrls"] == ["https://www.instagram.com/humansofny/"]
    assert request["body"]["resultsType"] == "details"
    assert request["body"]["resultsLimit"] == 12
    assert (call.http_status, call.attempts, call.results_returned) == (200, 1, 1)


def test_one_request_per_fetch_and_503_is_transient_with_its_retry_after(fake_apify, real_export):
    # Retrying is the scrape task's job (config.tasks): the provider never loops or sleeps.
    fake_apify.script((503, {}, {"Retry-After": "7"}), (200, real_export))
    call = CallInfo()
    with pytest.raises(TransientProviderError) as caught:
        ApifyProvider().fetch("humansofny", call=call)
    assert caught.value.retryable and caught.value.retry_after == 7.0 and caught.value.http_status == 503
    assert len(fake_apify.requests) == 1 and call.attempts == 1
    assert ApifyProvider().fetch("humansofny").username == "humansofny"  # the next try succeeds


@pytest.mark.parametrize(
    "response",
    [
        (404, {"error": {"type": "record-not-found"}}),
        (200, []),
        (200, [{"error": "not_found", "errorDescription": "Page Not Found"}]),
    ],
)
def test_missing_profiles(fake_apify, response):
    fake_apify.script(response)
    with pytest.raises(ProfileNotFound) as caught:
        ApifyProvider().fetch("nobody_here")
    assert caught.value.category == "not_found" and caught.value.retryable is False
    assert len(fake_apify.requests) == 1  # never retried


def test_private_profile(fake_apify, real_export):
    item = real_export[0]
    item.update(private=True, latestPosts=[])
    fake_apify.script((200, [item]))
    with pytest.raises(ProfilePrivate) as caught:
        ApifyProvider().fetch("humansofny")
    assert caught.value.category == "private" and not caught.value.retryable


def test_429_is_rate_limited_with_retry_after(fake_apify):
    fake_apify.script((429, {"error": {"message": "slow down"}}, {"Retry-After": "0.005"}))
    with pytest.raises(RateLimited) as caught:
        ApifyProvider().fetch("humansofny")
    assert caught.value.category == "rate_limited" and caught.value.retryable is True
    assert caught.value.http_status == 429 and caught.value.retry_after == 0.005
    assert len(fake_apify.requests) == 1


def test_400_is_not_retried(fake_apify):
    fake_apify.script((400, {"error": {"message": "Input is not valid"}}), (200, []))
    with pytest.raises(ProviderError) as caught:
        ApifyProvider().fetch("humansofny")
    assert type(caught.value) is ProviderError and not caught.value.retryable
    assert "Input is not valid" in str(caught.value)
    assert len(fake_apify.requests) == 1


def test_timeouts_are_transient(fake_apify, settings, real_export):
    settings.SCRAPER_READ_TIMEOUT = 0.2
    fake_apify.delay = 0.5
    fake_apify.script((200, real_export))
    with pytest.raises(TransientProviderError) as caught:
        ApifyProvider().fetch("humansofny")
    assert "test-token" not in str(caught.value) and caught.value.retryable
    assert len(fake_apify.requests) == 1


def test_breaker_opens_after_five_failures(fake_apify, settings, real_export):
    fake_apify.script((503, {}))
    for _ in range(5):
        with pytest.raises(TransientProviderError):
            ApifyProvider().fetch("humansofny")
    assert len(fake_apify.requests) == 5
    fake_apify.script((200, real_export))
    with pytest.raises(ProviderUnavailable) as caught:
        ApifyProvider().fetch("humansofny")  # a new instance: the state is shared via the cache
    assert caught.value.category == "unavailable" and caught.value.retryable
    assert fake_apify.requests == []  # rejected without an HTTP call


def test_breaker_half_opens_after_reset(fake_apify, settings, real_export):
    settings.SCRAPER_BREAKER_RESET_SECONDS = 0.05
    fake_apify.script((503, {}))
    for _ in range(5):
        with pytest.raises(TransientProviderError):
            ApifyProvider().fetch("humansofny")
    import time

    time.sleep(0.1)
    fake_apify.script((200, real_export))
    assert ApifyProvider().fetch("humansofny").username == "humansofny"
    # The success closed it: four new failures do not open it again.
    fake_apify.script((503, {}))
    for _ in range(4):
        with pytest.raises(TransientProviderError):
            ApifyProvider().fetch("humansofny")
    fake_apify.script((200, real_export))
    assert ApifyProvider().fetch("humansofny").username == "humansofny"


def test_not_found_does_not_count_against_the_provider(fake_apify, settings):
    fake_apify.script((200, []))
    for _ in range(6):
        with pytest.raises(ProfileNotFound):
            ApifyProvider().fetch("nobody_here")
    assert len(fake_apify.requests) == 6


def test_missing_token_is_a_clear_error(fake_apify, settings):
    settings.APIFY_TOKEN = ""
    with pytest.raises(ProviderError, match="APIFY_TOKEN"):
        ApifyProvider().fetch("humansofny")
    assert fake_apify.requests == []


@pytest.mark.django_db
def test_calls_are_recorded_with_cost(fake_apify, settings, real_export):
    settings.SCRAPER_COST_CENTS = {"apify": 0.26, "dataset": 0.0}
    fake_apify.script((200, real_export))
    get_provider().fetch("humansofny")
    fake_apify.script((404, {}))
    with pytest.raises(ProfileNotFound):
        get_provider().fetch("nobody_here")
    ok, missing = ProviderCall.objects.order_by("created_at", "id")
    assert (ok.provider, ok.operation, ok.username, ok.status) == ("apify", "fetch_profile", "humansofny", "ok")
    assert (ok.http_status, ok.attempts, ok.results_returned) == (200, 1, 1)
    assert float(ok.cost_cents) == pytest.approx(0.26)
    assert ok.duration_ms >= 0 and ok.error_detail == ""
    assert (missing.status, missing.http_status, missing.results_returned) == ("not_found", 404, 0)
    assert "nobody_here" in missing.error_detail
