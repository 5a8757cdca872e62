"""Admin for analysis jobs: status, stage timings, errors and the event trail."""

from django.contrib import admin

from analysis.models import AnalysisJob, AnalysisJobEvent


class AnalysisJobEventInline(admin.TabularInline):
    model = AnalysisJobEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "status", "progress", "message", "data")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AnalysisJob)
class AnalysisJobAdmin(admin.ModelAdmin):
    list_display = (
        "username",
        "status",
        "progress",
        "trigger",
        "requested_by",
        "error_category",
        "created_at",
        "duration",
    )
    list_filter = ("status", "trigger", "error_category", "error_stage")
    search_fields = ("username", "id", "requested_by__email")
    list_select_related = ("requested_by", "profile")
    raw_id_fields = ("profile", "requested_by")
    date_hierarchy = "created_at"
    inlines = [AnalysisJobEventInline]
    readonly_fields = (
        "id",
        "username",
        "profile",
        "requested_by",
        "trigger",
        "status",
        "steps",
        "options",
        "progress",
        "attempts",
        "started_at",
        "finished_at",
        "scrape_started_at",
        "scrape_finished_at",
        "media_started_at",
        "media_finished_at",
        "ai_started_at",
        "ai_finished_at",
        "error_stage",
        "error_category",
        "error_detail",
        "result",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "username",
                    "profile",
                    "requested_by",
                    "trigger",
                    "status",
                    "steps",
                    "options",
                    "progress",
                    "attempts",
                )
            },
        ),
        (
            "Timings",
            {
                "fields": (
                    "created_at",
                    "started_at",
                    "scrape_started_at",
                    "scrape_finished_at",
                    "media_started_at",
                    "media_finished_at",
                    "ai_started_at",
                    "ai_finished_at",
                    "finished_at",
                )
            },
        ),
        ("Outcome", {"fields": ("error_stage", "error_category", "error_detail", "result")}),
    )

    def has_add_permission(self, request) -> bool:
        return False  # jobs are started by the pipeline, the repair actions and commands

    @admin.display(description="duration")
    def duration(self, job: AnalysisJob) -> str:
        if job.started_at and job.finished_at:
            return f"{(job.finished_at - job.started_at).total_seconds():.1f} s"
        return "-"
