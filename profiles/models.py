"""Instagram creators: profiles, their posts, related profiles, snapshots and team access."""

from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty

from config.models import TimeStampedModel, UUIDModel

USERNAME_RE = r"^[a-z0-9._]{1,30}$"
username_validator = RegexValidator(
    USERNAME_RE,
    "An Instagram username has 1-30 characters: letters, digits, '.' and '_'.",
    code="invalid_username",
)


def normalize_username(value: str) -> str:
    """Lower-case, without a leading ``@`` or surrounding spaces (validation is separate)."""
    return (value or "").strip().lstrip("@").strip().lower()


# Nullable discovery sort columns and the short names of their indexes.
DISCOVERY_NULLABLE_SORTS = (
    ("engagement_rate", "er"),
    ("avg_engagement", "avgeng"),
    ("growth_30d", "growth"),
    ("audience_quality_score", "quality"),
    ("last_post_at", "recent"),
)


class ProfileQuerySet(models.QuerySet):
    def viewable_by(self, actor: Any) -> "ProfileQuerySet":
        """The creators whose full report ``actor`` may see: all for staff, else the team's unexpired unlocks.

        The one access rule (with ``profiles.selectors.profile_viewable_get``); ``actor`` is a
        ``profiles.selectors.Actor`` (user id, active team id, staff flag).
        """
        if actor.is_staff:
            return self.all()
        return self.filter(
            Exists(
                TeamProfileAccess.objects.filter(
                    profile=OuterRef("pk"), team_id=actor.team_id, expires_at__gt=timezone.now()
                )
            )
        )


class Profile(UUIDModel):
    username = models.CharField(max_length=30, unique=True, validators=[username_validator])
    instagram_id = models.CharField(max_length=40, null=True, blank=True, unique=True)
    full_name = models.CharField(max_length=255, blank=True)
    biography = models.TextField(blank=True)
    followers_count = models.BigIntegerField(default=0)
    following_count = models.BigIntegerField(default=0)
    # None: unknown (an export without postsCount), never 0 standing in for it.
    posts_count = models.BigIntegerField(null=True, blank=True)
    is_verified = models.BooleanField(default=False)
    is_business = models.BooleanField(default=False)
    is_private = models.BooleanField(default=False)
    category = models.CharField(max_length=255, blank=True)
    external_url = models.URLField(max_length=1000, blank=True)
    external_urls = models.JSONField(default=list, blank=True)
    profile_pic_url = models.URLField(max_length=2000, blank=True)
    cdn_avatar_url = models.URLField(max_length=1000, blank=True)
    last_scraped_at = models.DateTimeField(null=True, blank=True)

    ai_primary_content_type = models.CharField(max_length=64, blank=True)
    ai_content_distribution = models.JSONField(default=dict, blank=True)
    ai_avg_sentiment_score = models.FloatField(null=True, blank=True)
    ai_language_distribution = models.JSONField(default=dict, blank=True)
    ai_content_quality_score = models.FloatField(null=True, blank=True)
    ai_profile_analyzed_at = models.DateTimeField(null=True, blank=True)
    ai_engine = models.CharField(max_length=200, blank=True)

    # --- Discovery: search fields stored by ``profiles.services.search_fields.profile_search_fields_refresh`` so
    # that every filter and sort is a column (indexable at a million creators). None = unknown.
    contact_email = models.CharField(max_length=254, blank=True)
    contact_email_source = models.CharField(max_length=16, blank=True)  # "business" | "biography"
    discoverable = models.BooleanField(default=False)
    engagement_rate = models.FloatField(null=True, blank=True)
    avg_likes = models.FloatField(null=True, blank=True)
    avg_views = models.FloatField(null=True, blank=True)
    avg_engagement = models.FloatField(null=True, blank=True)
    posts_per_week = models.FloatField(null=True, blank=True)
    last_post_at = models.DateTimeField(null=True, blank=True)
    audience_quality_score = models.FloatField(null=True, blank=True)
    sponsored_share = models.FloatField(null=True, blank=True)
    growth_30d = models.FloatField(null=True, blank=True, help_text="Follower change over 30 days, percent")
    top_language = models.CharField(max_length=8, blank=True)
    search_hashtags = models.JSONField(default=list, blank=True)
    # PostgreSQL only (GIN-indexed by migration); unused on SQLite, where keywords use icontains.
    search_vector = SearchVectorField(null=True, blank=True)
    search_refreshed_at = models.DateTimeField(null=True, blank=True)
    objects = ProfileQuerySet.as_manager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(followers_count__gte=0) & Q(following_count__gte=0) & Q(posts_count__gte=0),
                name="profiles_profile_counts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(ai_avg_sentiment_score__isnull=True)
                | Q(ai_avg_sentiment_score__gte=-1, ai_avg_sentiment_score__lte=1),
                name="profiles_profile_sentiment_range",
            ),
        ]
        indexes = [
            models.Index(fields=["-followers_count"], name="profiles_followers_idx"),
            # Discovery's keyset sorts: (value, id) descending over discoverable creators; the
            # nullable figures index their known values only (unknown ones come last, by id).
            models.Index(fields=["-followers_count", "-id"], name="disc_followers_idx", condition=Q(discoverable=True)),
            *[
                models.Index(
                    fields=[f"-{column}", "-id"],
                    name=f"disc_{short}_idx",
                    condition=Q(discoverable=True, **{f"{column}__isnull": False}),
                )
                for column, short in DISCOVERY_NULLABLE_SORTS
            ],
            models.Index(
                fields=["ai_primary_content_type", "-followers_count", "-id"],
                name="disc_category_idx",
                condition=Q(discoverable=True),
            ),
            models.Index(
                fields=["top_language", "-followers_count", "-id"],
                name="disc_language_idx",
                condition=Q(discoverable=True),
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.username}"


class Post(UUIDModel):
    class Type(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        CAROUSEL = "carousel", "Carousel"

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="posts")
    instagram_post_id = models.CharField(max_length=40, unique=True)
    shortcode = models.CharField(max_length=40, blank=True)
    url = models.URLField(max_length=500, blank=True)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.IMAGE)
    caption = models.TextField(blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    mentions = models.JSONField(default=list, blank=True)
    # None: unknown (hidden by the creator, or not in the export); metrics leave such posts out.
    likes_count = models.BigIntegerField(null=True, blank=True)
    comments_count = models.BigIntegerField(null=True, blank=True)
    video_view_count = models.BigIntegerField(null=True, blank=True)
    is_pinned = models.BooleanField(default=False)
    is_sponsored = models.BooleanField(default=False)
    posted_at = models.DateTimeField(null=True, blank=True)
    display_url = models.URLField(max_length=2000, blank=True)
    cdn_thumbnail_url = models.URLField(max_length=1000, blank=True)

    ai_content_category = models.CharField(max_length=64, blank=True)
    ai_category_confidence = models.FloatField(null=True, blank=True)
    ai_sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    ai_sentiment_score = models.FloatField(null=True, blank=True)
    ai_sentiment_confidence = models.FloatField(null=True, blank=True)
    ai_language_code = models.CharField(max_length=8, blank=True)
    ai_language_confidence = models.FloatField(null=True, blank=True)
    ai_analysis_raw = models.JSONField(default=dict, blank=True)
    ai_analyzed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-posted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(likes_count__gte=0)
                & Q(comments_count__gte=0)
                & (Q(video_view_count__isnull=True) | Q(video_view_count__gte=0)),
                name="profiles_post_counts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(ai_sentiment_score__isnull=True) | Q(ai_sentiment_score__gte=-1, ai_sentiment_score__lte=1),
                name="profiles_post_sentiment_range",
            ),
        ]
        indexes = [
            models.Index(fields=["profile", "-posted_at"], name="profiles_post_recent_idx"),
            models.Index(
                fields=["profile"], name="profiles_post_analysed_idx", condition=Q(ai_analyzed_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id}:{self.shortcode or self.instagram_post_id}"


class RelatedProfile(TimeStampedModel):
    """A similar profile that a scrape of ``profile`` returned (not necessarily analysed)."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="related_profiles")
    username = models.CharField(max_length=30, validators=[username_validator])
    instagram_id = models.CharField(max_length=40, blank=True)
    full_name = models.CharField(max_length=255, blank=True)
    is_verified = models.BooleanField(default=False)
    is_private = models.BooleanField(default=False)
    profile_pic_url = models.URLField(max_length=2000, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["profile", "position"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "username"], name="profiles_related_unique"),
        ]
        indexes = [models.Index(fields=["username"], name="profiles_related_username_idx")]

    def __str__(self) -> str:
        return f"{self.profile_id} -> @{self.username}"


class ProfileSnapshot(models.Model):
    """The counts of a profile at one scrape, for growth over time."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="snapshots")
    followers_count = models.BigIntegerField()
    following_count = models.BigIntegerField()
    posts_count = models.BigIntegerField(null=True, blank=True)
    captured_at = models.DateTimeField()

    class Meta:
        ordering = ["profile", "captured_at"]
        get_latest_by = "captured_at"
        constraints = [
            models.UniqueConstraint(fields=["profile", "captured_at"], name="profiles_snapshot_unique"),
            models.CheckConstraint(
                condition=Q(followers_count__gte=0) & Q(following_count__gte=0) & Q(posts_count__gte=0),
                name="profiles_snapshot_counts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id}@{self.captured_at:%Y-%m-%d %H:%M}"


class TeamProfileAccess(TimeStampedModel):
    """A team's time-limited access to a creator's full report (the 30-day unlock by any member)."""

    class GrantedVia(models.TextChoices):
        UNLOCK = "unlock", "Unlock"
        TEAM = "team", "Team"
        STAFF = "staff", "Staff grant"
        DISCOVERY = "discovery", "Discovery"

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="profile_accesses")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="accesses")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    granted_via = models.CharField(max_length=16, choices=GrantedVia.choices, default=GrantedVia.UNLOCK)

    class Meta:
        ordering = ["-expires_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "profile"], name="profiles_access_team_unique"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("granted_at")), name="profiles_access_window"),
        ]
        indexes = [models.Index(fields=["team", "expires_at"], name="profiles_access_team_idx")]

    def __str__(self) -> str:
        return f"{self.team_id} -> {self.profile_id} until {self.expires_at:%Y-%m-%d}"


class _ExportsStorage(LazyObject):
    """``STORAGES["exports"]``, looked up when first used (and again after the setting changes)."""

    def _setup(self) -> None:
        self._wrapped = storages["exports"]


_exports_storage = _ExportsStorage()


@receiver(setting_changed)
def _exports_storage_reset(*, setting: str, **kwargs) -> None:
    if setting == "STORAGES":
        _exports_storage._wrapped = empty


def exports_storage() -> Storage:
    """Exports' own storage (settings ``STORAGES["exports"]``): private, never the media bucket."""
    return _exports_storage


class Export(UUIDModel):
    """A data export of creators a team can access; large ones are built by a task."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON = "json", "JSON"
        XLSX = "xlsx", "Excel (xlsx)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="exports")
    # The member who asked for it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="exports"
    )
    usernames = models.JSONField(default=list)
    format = models.CharField(max_length=8, choices=Format.choices)
    include_posts = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="exports/", blank=True, storage=exports_storage)
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "-created_at"], name="profiles_export_team_idx")]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.format}, {len(self.usernames)} creators)"


class ProviderCall(models.Model):
    """One call to a scraping provider, with its outcome and estimated cost (for staff)."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        NOT_FOUND = "not_found", "Not found"
        PRIVATE = "private", "Private"
        RATE_LIMITED = "rate_limited", "Rate limited"
        TRANSIENT = "transient", "Transient error"
        UNAVAILABLE = "unavailable", "Circuit open"
        PROVIDER_ERROR = "provider_error", "Provider error"

    provider = models.CharField(max_length=32)
    operation = models.CharField(max_length=32, default="fetch_profile")
    username = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    results_returned = models.PositiveIntegerField(default=0)
    cost_cents = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    error_detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(cost_cents__gte=0), name="profiles_providercall_cost_non_negative"),
        ]
        indexes = [
            models.Index(fields=["provider", "-created_at"], name="profiles_call_provider_idx"),
            models.Index(fields=["username", "-created_at"], name="profiles_call_username_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.operation} @{self.username} {self.status}"


class ContactEmailReveal(models.Model):
    """A team revealed a creator's contact email: every member sees it, paid once."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="email_reveals")
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="email_reveals")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "profile"], name="profiles_email_reveal_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} -> {self.profile_id} email"
