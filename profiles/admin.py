"""profiles admin: creators with their completeness, posts, access, exports and provider calls."""

from django.contrib import admin, messages
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils.html import format_html

from analysis import services as analysis_services
from profiles.models import Export, Post, Profile, ProfileSnapshot, ProviderCall, RelatedProfile, TeamProfileAccess
from profiles.selectors.completeness import complete_q, completeness_from_annotated, profiles_annotate_completeness

SUMMARY_ROWS = 31


@admin.register(ProviderCall)
class ProviderCallAdmin(admin.ModelAdmin):
    """Read-only: rows are written by ``profiles.providers.recording.provider_call_record`` only.

    Above the list, two tables sum the calls that the current filters select: cost per day
    and cost per creator (the username scraped).
    """

    list_display = [
        "created_at", "provider", "operation", "username", "status", "http_status", "attempts",
        "duration_ms", "results_returned", "cost_cents",
    ]  # fmt: skip
    list_filter = ["provider", "status", "operation", ("created_at", admin.DateFieldListFilter)]
    date_hierarchy = "created_at"
    search_fields = ["username"]
    ordering = ["-created_at"]
    readonly_fields = [field.name for field in ProviderCall._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context=extra_context)
        context = getattr(response, "context_data", None)
        if not context or "cl" not in context:
            return response  # a redirect or an error page
        queryset = context["cl"].queryset.order_by()
        totals = {
            "calls": Count("id"),
            "errors": Count("id", filter=~Q(status=ProviderCall.Status.OK)),
            "results": Sum("results_returned"),
            "cost": Sum("cost_cents"),
        }
        context["cost_per_day"] = list(
            queryset.annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(**totals)
            .order_by("-day")[:SUMMARY_ROWS]
        )
        context["cost_per_creator"] = list(
            queryset.values("username").annotate(**totals).order_by("-cost", "username")[:SUMMARY_ROWS]
        )
        context["cost_total"] = queryset.aggregate(**totals)
        return response


class CompletenessFilter(admin.SimpleListFilter):
    title = "completeness"
    parameter_name = "complete"

    def lookups(self, request, model_admin):
        return [("yes", "Complete"), ("no", "Incomplete")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(complete_q())
        if self.value() == "no":
            return queryset.exclude(complete_q())
        return queryset


def _thumbnail(url: str, size: int = 64) -> str:
    if not url:
        return "-"
    return format_html('<img src="{}" width="{}" height="{}" style="object-fit:cover" alt="">', url, size, size)


class PostInline(admin.TabularInline):
    model = Post
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["thumbnail", "posted_at", "type", "likes_count", "comments_count", "ai_content_category",
              "ai_sentiment", "ai_language_code", "cdn_thumbnail_url"]  # fmt: skip
    readonly_fields = fields
    ordering = ["-posted_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="")
    def thumbnail(self, obj: Post) -> str:
        return _thumbnail(obj.cdn_thumbnail_url)


class SnapshotInline(admin.TabularInline):
    model = ProfileSnapshot
    extra = 0
    can_delete = False
    fields = ["captured_at", "followers_count", "following_count", "posts_count"]
    readonly_fields = fields
    ordering = ["-captured_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RelatedProfileInline(admin.TabularInline):
    model = RelatedProfile
    extra = 0
    can_delete = False
    fields = ["position", "username", "full_name", "is_verified", "is_private"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """Creators. The list shows what each one misses; actions queue the pipeline steps that repair it."""

    list_display = ["avatar", "username", "full_name", "followers_count", "posts_count", "is_verified", "completeness",
                    "ai_primary_content_type", "last_scraped_at"]  # fmt: skip
    list_filter = [CompletenessFilter, "is_verified", "is_business", "is_private", "ai_primary_content_type"]
    search_fields = ["username", "full_name", "instagram_id"]
    ordering = ["username"]
    date_hierarchy = "last_scraped_at"
    readonly_fields = ["avatar", "id", "instagram_id", "last_scraped_at", "ai_profile_analyzed_at", "ai_engine",
                       "completeness_detail", "created_at", "updated_at"]  # fmt: skip
    inlines = [SnapshotInline, PostInline, RelatedProfileInline]
    actions = ["repair_selected", "reanalyse_selected"]

    def get_queryset(self, request):
        return profiles_annotate_completeness(super().get_queryset(request))

    @admin.display(description="")
    def avatar(self, obj: Profile) -> str:
        return _thumbnail(obj.cdn_avatar_url, size=40)

    @admin.display(description="complete")
    def completeness(self, obj: Profile) -> str:
        result = completeness_from_annotated(obj)
        if result.is_complete:
            return format_html('<span style="color:#2a7a2a">complete</span>')
        return format_html('<span style="color:#b04a00">missing: {}</span>', ", ".join(result.missing))

    @admin.display(description="completeness")
    def completeness_detail(self, obj: Profile) -> str:
        result = completeness_from_annotated(obj)
        return format_html(
            "{}<br>posts stored {} / analysed {} / with thumbnails {} of {} required",
            "complete" if result.is_complete else "missing: " + ", ".join(result.missing),
            result.posts_stored, result.posts_analysed, result.posts_thumbnails, result.required_posts,
        )  # fmt: skip

    @admin.action(description="Repair: queue the missing pipeline steps")
    def repair_selected(self, request, queryset):
        queued = 0
        for profile in queryset:
            if analysis_services.profile_repair(profile=profile, requested_by=request.user) is not None:
                queued += 1
        self.message_user(request, f"Queued {queued} repair job(s); {queryset.count() - queued} already complete.")

    @admin.action(description="Re-run the AI analysis")
    def reanalyse_selected(self, request, queryset):
        for profile in queryset:
            analysis_services.profile_reanalyse(profile=profile, requested_by=request.user)
        self.message_user(request, f"Queued AI analysis for {queryset.count()} creator(s).", messages.SUCCESS)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "instagram_post_id", "profile", "type", "posted_at", "likes_count", "comments_count",
                    "ai_content_category", "ai_sentiment", "ai_language_code", "is_sponsored"]  # fmt: skip
    list_filter = ["type", "ai_content_category", "ai_sentiment", "ai_language_code", "is_sponsored"]
    search_fields = ["instagram_post_id", "shortcode", "profile__username", "caption"]
    list_select_related = ["profile"]
    raw_id_fields = ["profile"]
    date_hierarchy = "posted_at"
    readonly_fields = ["thumbnail", "ai_analysis_raw", "ai_analyzed_at", "created_at", "updated_at"]

    @admin.display(description="")
    def thumbnail(self, obj: Post) -> str:
        return _thumbnail(obj.cdn_thumbnail_url)


@admin.register(TeamProfileAccess)
class TeamProfileAccessAdmin(admin.ModelAdmin):
    list_display = ["team", "profile", "granted_by", "granted_via", "granted_at", "expires_at"]
    list_filter = ["granted_via"]
    search_fields = ["team__name", "granted_by__email", "profile__username"]
    list_select_related = ["team", "granted_by", "profile"]
    raw_id_fields = ["team", "granted_by", "profile"]
    date_hierarchy = "granted_at"


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "user", "format", "include_posts", "status", "rows", "created_at", "finished_at"]
    list_filter = ["format", "status"]
    search_fields = ["team__name", "user__email", "id"]
    list_select_related = ["team", "user"]
    readonly_fields = [field.name for field in Export._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
