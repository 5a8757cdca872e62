"""Discovery API serializers: the filter and search inputs (strict) and the page outputs.

Unknown filters, a minimum above its maximum, an unknown category or sort are 400s whose
``details`` name the field. Browse takes the basic filters as query parameters (lists as
``a,b`` or repeated); the advanced search takes every filter in a JSON body.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from config.api.shapes import MediaURLField
from discovery.selectors import SORTS, category_names
from profiles.api.serializers import CreditsOutcomeSerializer

BASIC_FILTERS = (
    "followers_min", "followers_max", "engagement_rate_min", "engagement_rate_max", "categories", "languages",
    "verified", "business_account", "has_email", "exclude_unlocked",
)  # fmt: skip
CONTROL_FIELDS = ("sort", "page_size", "cursor")
_PAIRS = (("followers_min", "followers_max"), ("engagement_rate_min", "engagement_rate_max"))


# The column is a 64-bit integer: a bound beyond it is a field error, not a query that cannot be built.
FOLLOWERS_MAX = 2**63 - 1


def _percent(**kwargs: Any) -> serializers.FloatField:
    return serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=100, **kwargs)


class FiltersSerializer(serializers.Serializer):
    followers_min = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=FOLLOWERS_MAX)
    followers_max = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=FOLLOWERS_MAX)
    engagement_rate_min = _percent(help_text="Percent, e.g. 2.5")
    engagement_rate_max = _percent()
    avg_likes_min = serializers.FloatField(required=False, allow_null=True, min_value=0)
    avg_views_min = serializers.FloatField(required=False, allow_null=True, min_value=0)
    categories = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=20)
    languages = serializers.ListField(child=serializers.RegexField(r"^[A-Za-z]{2,3}$"), required=False, max_length=20)
    verified = serializers.BooleanField(allow_null=True, default=None)
    business_account = serializers.BooleanField(allow_null=True, default=None)
    has_email = serializers.BooleanField(allow_null=True, default=None)
    posts_per_week_min = serializers.FloatField(required=False, allow_null=True, min_value=0)
    last_post_within_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3650)
    audience_quality_min = _percent()
    sponsored_share_max = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    growth_30d_min = serializers.FloatField(required=False, allow_null=True, min_value=-100)
    keywords = serializers.CharField(required=False, allow_blank=True, max_length=200)
    hashtags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=20)
    exclude_unlocked = serializers.BooleanField(default=False)

    def validate_categories(self, value: list[str]) -> list[str]:
        known = {name.lower(): name for name in category_names()}
        unknown = [v for v in value if v.strip().lower() not in known]
        if unknown:
            raise serializers.ValidationError(f"Unknown categories: {', '.join(unknown)}. See GET categories.")
        return sorted({known[v.strip().lower()] for v in value})

    def validate_languages(self, value: list[str]) -> list[str]:
        return sorted({v.lower() for v in value})

    def validate_hashtags(self, value: list[str]) -> list[str]:
        return sorted({v.strip().lstrip("#").lower() for v in value if v.strip().lstrip("#")})

    def validate_keywords(self, value: str) -> str:
        return " ".join(value.split())

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields) - set(self.context.get("extra_fields", ())))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown filter."] for name in unknown})
        errors = {}
        for low, high in _PAIRS:
            if attrs.get(low) is not None and attrs.get(high) is not None and attrs[low] > attrs[high]:
                errors[low] = [f"{low} is greater than {high}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class BrowseFiltersSerializer(FiltersSerializer):
    """The basic filters only (the advanced ones are ``POST search-advanced``)."""

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        return {name: f for name, f in fields.items() if name in BASIC_FILTERS}


def _sort_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=list(SORTS), required=False)


def _page_size_field() -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=settings.DISCOVERY_PAGE_SIZE_MAX)


class BrowseQuerySerializer(serializers.Serializer):
    sort = _sort_field()
    page_size = _page_size_field()
    cursor = serializers.CharField(required=False, max_length=2000)

    def validate_sort(self, value: str) -> str:
        if value == "relevance":
            raise serializers.ValidationError("relevance needs keywords: use POST search-advanced.")
        return value


class AdvancedSearchSerializer(serializers.Serializer):
    filters = serializers.DictField(required=False, default=dict)
    sort = _sort_field()
    page_size = _page_size_field()
    cursor = serializers.CharField(required=False, allow_null=True, max_length=2000)
    lookalike_of = serializers.CharField(
        required=False, max_length=64, help_text="Rank the matching creators by similarity to this one (one page)"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        filters = FiltersSerializer(data=attrs.get("filters") or {})
        if not filters.is_valid():
            raise serializers.ValidationError({"filters": filters.errors})
        attrs["filters"] = filters.validated_data
        if attrs.get("lookalike_of") and attrs.get("cursor"):
            raise serializers.ValidationError({"cursor": ["A lookalike search is one page."]})
        if attrs.get("sort") == "relevance" and not attrs["filters"].get("keywords"):
            raise serializers.ValidationError({"sort": ["relevance needs keywords."]})
        return attrs


class CreatorPreviewSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    avatar_url = MediaURLField(allow_null=True)
    followers_count = serializers.IntegerField()
    engagement_rate = serializers.FloatField(allow_null=True, help_text="Percent; null when unknown")
    primary_category = serializers.CharField(allow_null=True)
    top_language = serializers.CharField(allow_null=True)
    is_verified = serializers.BooleanField()
    unlocked = serializers.BooleanField(help_text="The active team can see the full report")
    unlock_price = serializers.IntegerField(help_text="Credits an unlock costs now (0 when unlocked)")
    has_email = serializers.BooleanField()
    email = serializers.CharField(allow_null=True, help_text="Masked (j***@gmail.com) until revealed")
    email_revealed = serializers.BooleanField()


class SearchPageSerializer(serializers.Serializer):
    results = CreatorPreviewSerializer(many=True)
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next_cursor = serializers.CharField(allow_null=True)
    total = serializers.IntegerField()
    total_is_exact = serializers.BooleanField()
    total_note = serializers.CharField(allow_null=True)
    sort = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())
    credits = CreditsOutcomeSerializer()


class CategoryCountSerializer(serializers.Serializer):
    name = serializers.CharField()
    creators = serializers.IntegerField()


class ActionPriceSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    credits_per_unit = serializers.IntegerField()
    free_uses_per_month = serializers.IntegerField()
    free_left = serializers.IntegerField()
    plan_quota = serializers.IntegerField()
    plan_left = serializers.IntegerField()
    description = serializers.CharField()


class DiscoveryDashboardSerializer(serializers.Serializer):
    creators = serializers.DictField()
    cycle = serializers.DictField()
    unlocks_this_cycle = serializers.IntegerField()
    exports_this_cycle = serializers.IntegerField()
    free_pages_left = serializers.IntegerField()
    free_searches_left = serializers.IntegerField()
    email_quota_left = serializers.IntegerField()
    recent_jobs = serializers.ListField(child=serializers.DictField())


class UnlockProfileInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=64)


class EmailRevealSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    masked = serializers.CharField()
    source = serializers.CharField(help_text="business (the provider's field) or biography")
    revealed_at = serializers.DateTimeField()
    credits = CreditsOutcomeSerializer()
