"""The scraping provider interface: typed results, the provider protocol and its errors.

Every provider (``apify``, ``dataset``, any later one) returns a ``ScrapedProfile`` built by
``profiles.providers.normalize`` and raises only ``ProviderError`` subclasses, whose
``category`` is what a failed job records and whose ``retryable`` tells the pipeline
whether to try again later: the retryable ones are ``config.errors.TransientError``s, which
the scrape task retries with the project's one retry policy (``config.tasks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from config.errors import TransientError


@dataclass(frozen=True)
class ScrapedRelated:
    username: str
    instagram_id: str = ""
    full_name: str = ""
    is_verified: bool = False
    is_private: bool = False
    profile_pic_url: str = ""


@dataclass(frozen=True)
class ScrapedPost:
    instagram_post_id: str
    shortcode: str = ""
    url: str = ""
    type: str = "image"  # image | video | carousel (profiles.models.Post.Type)
    caption: str = ""
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    likes_count: int | None = None  # None: unknown (hidden, or not in the export)
    comments_count: int | None = None
    video_view_count: int | None = None
    is_pinned: bool = False
    is_sponsored: bool = False
    posted_at: datetime | None = None
    display_url: str = ""
    child_display_urls: list[str] = field(default_factory=list)
    alt: str = ""


@dataclass(frozen=True)
class ScrapedProfile:
    username: str
    instagram_id: str = ""
    full_name: str = ""
    biography: str = ""
    followers_count: int = 0
    following_count: int = 0
    posts_count: int | None = None  # None: unknown (not in the export)
    is_verified: bool = False
    is_business: bool = False
    is_private: bool = False
    category: str = ""
    external_url: str = ""
    external_urls: list[str] = field(default_factory=list)
    profile_pic_url: str = ""
    business_email: str = ""  # the provider's public business email, when the export has one
    posts: list[ScrapedPost] = field(default_factory=list)
    related: list[ScrapedRelated] = field(default_factory=list)
    # True when only posts were known (a posts export): the profile's own fields, counts and
    # related profiles are unknown, so an upsert must not overwrite stored values with blanks.
    partial: bool = False


@dataclass
class CallInfo:
    """What a provider reports about one fetch, for ``ProviderCall`` (filled in by the provider)."""

    operation: str = "fetch_profile"
    http_status: int | None = None
    attempts: int = 0
    results_returned: int = 0


class ProviderError(Exception):
    """A provider could not return the profile. ``category`` is stored on failed jobs."""

    category = "provider_error"
    retryable = False

    def __init__(
        self, message: str, *, username: str = "", http_status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.message = message
        self.username = username
        self.http_status = http_status
        self.retry_after = retry_after  # seconds the provider asked to wait (Retry-After)


class ProfileNotFound(ProviderError):
    category = "not_found"


class ProfilePrivate(ProviderError):
    category = "private"


class RateLimited(ProviderError, TransientError):
    category = "rate_limited"
    retryable = True


class TransientProviderError(ProviderError, TransientError):
    category = "transient"
    retryable = True


class ProviderUnavailable(ProviderError, TransientError):
    """The circuit breaker is open: the provider is not called at all for a while."""

    category = "unavailable"
    retryable = True


@runtime_checkable
class Provider(Protocol):
    name: str

    def fetch(self, username: str, *, call: CallInfo | None = None) -> ScrapedProfile:
        """Return the normalised profile, or raise a ``ProviderError`` subclass."""
        ...
