"""Shapes of the creator API: the five-section report, the locked preview, posts, exports.

The report is built as plain data by ``profiles.report``; these serializers document its
shape in the OpenAPI schema (and are what the schema tests validate responses against).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from analysis.api.serializers import AnalysisJobSerializer
from profiles.models import Export, Post, RelatedProfile, TeamProfileAccess, normalize_username, username_validator
from profiles.report import POST_ORDERING


class CompletenessSerializer(serializers.Serializer):
    is_complete = serializers.BooleanField()
    criteria = serializers.DictField(child=serializers.BooleanField())
    missing = serializers.ListField(child=serializers.CharField())
    required_posts = serializers.IntegerField()
    posts_stored = serializers.IntegerField()
    posts_analysed = serializers.IntegerField()
    posts_thumbnails = serializers.IntegerField()


class OverviewSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    biography = serializers.CharField()
    external_url = serializers.CharField(allow_null=True)
    external_urls = serializers.ListField(child=serializers.JSONField())
    profile_url = serializers.URLField()
    followers_count = serializers.IntegerField()
    following_count = serializers.IntegerField()
    posts_count = serializers.IntegerField()
    is_verified = serializers.BooleanField()
    is_business = serializers.BooleanField()
    is_private = serializers.BooleanField()
    category = serializers.CharField(allow_null=True)
    avatar_url = serializers.URLField(allow_null=True, help_text="CDN copy of the profile picture (WebP).")
    last_refreshed_at = serializers.DateTimeField(allow_null=True)
    completeness = CompletenessSerializer()


class FollowersPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    followers = serializers.IntegerField()


class FollowingPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    following = serializers.IntegerField()


class GrowthSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    followers_change = serializers.IntegerField()
    followers_change_percent = serializers.FloatField(allow_null=True)
    following_change = serializers.IntegerField()
    following_change_percent = serializers.FloatField(allow_null=True)


class QualitySignalSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    points = serializers.FloatField()
    max_points = serializers.IntegerField()


class AudienceQualitySerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text="0-100, an estimate from profile-level signals.")
    method = serializers.CharField()
    signals = QualitySignalSerializer(many=True)


class AudienceSerializer(serializers.Serializer):
    followers_history = FollowersPointSerializer(many=True)
    following_history = FollowingPointSerializer(many=True)
    growth_7d = GrowthSerializer(allow_null=True)
    growth_30d = GrowthSerializer(allow_null=True)
    following_followers_ratio = serializers.FloatField(allow_null=True)
    quality = AudienceQualitySerializer()
    demographics = serializers.JSONField(allow_null=True, help_text="Always null: needs follower samples.")
    demographics_reason = serializers.CharField()


class TimeSlotSerializer(serializers.Serializer):
    key = serializers.IntegerField(help_text="Weekday (0 = Monday) or hour (0-23, UTC).")
    label = serializers.CharField()
    posts = serializers.IntegerField()
    mean_engagement = serializers.FloatField()


class SponsoredPostSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    shortcode = serializers.CharField()
    signals = serializers.ListField(child=serializers.CharField())


class SponsoredSerializer(serializers.Serializer):
    sponsored_posts = serializers.IntegerField()
    organic_posts = serializers.IntegerField()
    sponsored_engagement_rate = serializers.FloatField(allow_null=True)
    organic_engagement_rate = serializers.FloatField(allow_null=True)
    posts = SponsoredPostSerializer(many=True)


class ViralPostSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    shortcode = serializers.CharField()
    engagement = serializers.IntegerField()
    sigmas = serializers.FloatField()


class ViralSerializer(serializers.Serializer):
    mean_engagement = serializers.FloatField()
    std_engagement = serializers.FloatField()
    threshold = serializers.FloatField()
    posts = ViralPostSerializer(many=True)


class EngagementSerializer(serializers.Serializer):
    posts_considered = serializers.IntegerField()
    engagement_rate = serializers.FloatField(
        allow_null=True, help_text="Median over the latest 12 posts of (likes + comments) / followers x 100."
    )
    mean_likes = serializers.FloatField(allow_null=True)
    mean_comments = serializers.FloatField(allow_null=True)
    median_likes = serializers.FloatField(allow_null=True)
    median_comments = serializers.FloatField(allow_null=True)
    mean_engagement = serializers.FloatField(allow_null=True)
    median_engagement = serializers.FloatField(allow_null=True)
    video_view_rate = serializers.FloatField(allow_null=True, help_text="(likes + comments) / views x 100, videos.")
    posts_per_week = serializers.FloatField(allow_null=True)
    best_weekdays = TimeSlotSerializer(many=True)
    best_hours = TimeSlotSerializer(many=True)
    sponsored = SponsoredSerializer()
    viral = ViralSerializer(allow_null=True)


class TagCountSerializer(serializers.Serializer):
    tag = serializers.CharField()
    count = serializers.IntegerField()


class BrandMentionSerializer(serializers.Serializer):
    username = serializers.CharField()
    count = serializers.IntegerField()
    sponsored_posts = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class ContentSerializer(serializers.Serializer):
    primary_category = serializers.CharField(allow_null=True)
    category_distribution = serializers.DictField(child=serializers.FloatField())
    avg_sentiment = serializers.FloatField(allow_null=True, help_text="-1..1")
    language_distribution = serializers.DictField(child=serializers.FloatField())
    quality_score = serializers.FloatField(allow_null=True, help_text="0..1")
    top_hashtags = TagCountSerializer(many=True)
    top_mentions = TagCountSerializer(many=True)
    brand_mentions = BrandMentionSerializer(many=True)
    analyzed_at = serializers.DateTimeField(allow_null=True)
    engine = serializers.CharField(allow_null=True)


class PostAISerializer(serializers.Serializer):
    category = serializers.CharField(allow_null=True)
    category_confidence = serializers.FloatField(allow_null=True)
    sentiment = serializers.ChoiceField(choices=Post.Sentiment.choices, allow_null=True)
    sentiment_score = serializers.FloatField(allow_null=True)
    sentiment_confidence = serializers.FloatField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    language_confidence = serializers.FloatField(allow_null=True)
    analyzed_at = serializers.DateTimeField(allow_null=True)


class ReportPostSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    instagram_post_id = serializers.CharField()
    shortcode = serializers.CharField()
    url = serializers.CharField()
    type = serializers.ChoiceField(choices=Post.Type.choices)
    caption = serializers.CharField()
    hashtags = serializers.ListField(child=serializers.CharField())
    mentions = serializers.ListField(child=serializers.CharField())
    likes_count = serializers.IntegerField()
    comments_count = serializers.IntegerField()
    video_view_count = serializers.IntegerField(allow_null=True)
    posted_at = serializers.DateTimeField(allow_null=True)
    thumbnail_url = serializers.URLField(allow_null=True)
    engagement_rate = serializers.FloatField(allow_null=True)
    view_rate = serializers.FloatField(allow_null=True)
    is_sponsored = serializers.BooleanField()
    ai = PostAISerializer()


class ReportSerializer(serializers.Serializer):
    overview = OverviewSerializer()
    audience = AudienceSerializer()
    engagement = EngagementSerializer()
    content = ContentSerializer()
    posts = ReportPostSerializer(many=True)


class ReportWithoutPostsSerializer(serializers.Serializer):
    overview = OverviewSerializer()
    audience = AudienceSerializer()
    engagement = EngagementSerializer()
    content = ContentSerializer()


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
    avatar_url = serializers.URLField(allow_null=True)
    followers_count = serializers.IntegerField()
    posts_count = serializers.IntegerField()
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
