"""Shapes of the creator API: the five-section report, the locked preview, posts, exports.

The report's serializers are derived from the typed report (``profiles.selectors.report_types``)
that the builder returns; they document its shape in the OpenAPI schema (and are what the
schema tests validate responses against).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from analysis.api.serializers import AnalysisJobSerializer
from config.api.shapes import MediaURLField, serializer_for
from profiles.models import Export, Post, RelatedProfile, TeamProfileAccess, normalize_username, username_validator
from profiles.selectors.posts import POST_ORDERING
from profiles.selectors.report_types import Report, ReportPost

# The report's serializers are derived from its typed shape (``profiles.selectors.report_types``):
# one description for the builder, the schema and the exports.
ReportSerializer = serializer_for(Report)
ReportWithoutPostsSerializer = serializer_for(Report, exclude=("posts",), name="ReportWithoutPosts")
ReportPostSerializer = serializer_for(ReportPost)


class AccessSerializer(serializers.Serializer):
    granted_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    via = serializers.CharField()


class UnlockInfoSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    price_credits = serializers.IntegerField(help_text="Credits per unlock when no allowance is left.")
    would_pay_with = serializers.CharField(help_text="free, plan_quota or credits: what would pay now.")
    affordable = serializers.BooleanField()
    url = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    avatar_url = MediaURLField(allow_null=True)
    followers_count = serializers.IntegerField()
    posts_count = serializers.IntegerField(allow_null=True, help_text="null: unknown (not in the export).")
    is_verified = serializers.BooleanField()
    category = serializers.CharField(allow_null=True)


class CreditsOutcomeSerializer(serializers.Serializer):
    charged = serializers.IntegerField()
    buckets = serializers.ListField(child=serializers.CharField())
    balance = serializers.IntegerField()
    replayed = serializers.BooleanField()
    skipped = serializers.BooleanField()


class CreatorSearchSerializer(serializers.Serializer):
    """Either the full report (``locked: false``) or the locked preview (``locked: true``)."""

    username = serializers.CharField()
    locked = serializers.BooleanField()
    preview = PreviewSerializer(required=False, help_text="Only when locked.")
    unlock = UnlockInfoSerializer(required=False, help_text="Only when locked.")
    access = AccessSerializer(required=False, allow_null=True, help_text="Only when unlocked.")
    job = AnalysisJobSerializer(required=False, allow_null=True, help_text="The running analysis, if any.")
    report = ReportSerializer(required=False, help_text="Only when unlocked.")


class CreatorUnlockSerializer(serializers.Serializer):
    username = serializers.CharField()
    locked = serializers.BooleanField()
    access = AccessSerializer()
    job = AnalysisJobSerializer(allow_null=True)
    report = ReportSerializer(required=False, allow_null=True, help_text="When the creator is complete (200).")
    credits = CreditsOutcomeSerializer()


class ProfileReportSerializer(serializers.Serializer):
    username = serializers.CharField()
    access = AccessSerializer(allow_null=True)
    report = ReportWithoutPostsSerializer()


class UnlockedProfileSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="profile.username")
    full_name = serializers.CharField(source="profile.full_name")
    avatar_url = serializers.CharField(source="profile.cdn_avatar_url")
    followers_count = serializers.IntegerField(source="profile.followers_count")
    primary_category = serializers.CharField(source="profile.ai_primary_content_type")

    class Meta:
        model = TeamProfileAccess
        fields = ["username", "full_name", "avatar_url", "followers_count", "primary_category", "granted_at",
                  "expires_at", "granted_via"]  # fmt: skip


class RelatedProfileSerializer(serializers.ModelSerializer):
    analysed = serializers.BooleanField(read_only=True, help_text="Whether we hold a report of this creator.")

    class Meta:
        model = RelatedProfile
        fields = ["username", "full_name", "is_verified", "is_private", "position", "analysed"]


class PostFilterSerializer(serializers.Serializer):
    category = serializers.CharField(required=False)
    sentiment = serializers.ChoiceField(choices=Post.Sentiment.choices, required=False)
    language = serializers.CharField(required=False, max_length=8)
    type = serializers.ChoiceField(choices=Post.Type.choices, required=False)
    posted_after = serializers.DateTimeField(required=False)
    posted_before = serializers.DateTimeField(required=False)
    ordering = serializers.ChoiceField(choices=list(POST_ORDERING), required=False, default="-date")

    def validate(self, attrs):
        after, before = attrs.get("posted_after"), attrs.get("posted_before")
        if after and before and after > before:
            raise serializers.ValidationError({"posted_before": "Must be after posted_after."})
        return attrs


class ExportRequestSerializer(serializers.Serializer):
    usernames = serializers.ListField(child=serializers.CharField(max_length=31), min_length=1, max_length=500)
    format = serializers.ChoiceField(choices=Export.Format.choices)
    include_posts = serializers.BooleanField(default=False)

    def validate_usernames(self, value: list[str]) -> list[str]:
        cleaned, invalid = [], []
        for name in value:
            normalized = normalize_username(name)
            try:
                username_validator(normalized)
            except DjangoValidationError:
                invalid.append(name)
            else:
                cleaned.append(normalized)
        if invalid:
            raise serializers.ValidationError(f"Not Instagram usernames: {', '.join(invalid[:20])}")
        return cleaned


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = ["id", "status", "format", "usernames", "include_posts", "rows", "error", "created_at",
                  "finished_at", "download_url"]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, export: Export) -> str | None:
        if export.status != Export.Status.READY:
            return None
        return f"/api/v1/exports/{export.pk}/download"
