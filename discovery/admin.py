"""Admin of the related-creator queue: candidates with filters, the queue's figures and actions.

The actions call ``discovery.services.queue``; nothing here writes a candidate directly.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from discovery.models import DiscoveryAttempt, DiscoveryCandidate
from discovery.selectors import discovery_queue_stats
from discovery.services import queue

# "Discover now" starts jobs outside the limits: a selection larger than this is refused.
DISCOVER_NOW_MAX = 50


class DiscoveryAttemptInline(admin.TabularInline):
    model = DiscoveryAttempt
    extra = 0
    can_delete = False
    fields = ("started_at", "finished_at", "outcome", "forced", "job")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DiscoveryCandidate)
class DiscoveryCandidateAdmin(admin.ModelAdmin):
    """Read-only rows (the queue writes them); above the list, the queue's figures and limits."""

    list_display = (
        "username",
        "status",
        "reason",
        "attempts",
        "found_via_link",
        "job_link",
        "next_attempt_at",
        "started_at",
        "finished_at",
        "created_at",
    )
    list_filter = ("status", "reason", ("created_at", admin.DateFieldListFilter))
    search_fields = ("username", "found_via__username")
    list_select_related = ("found_via", "job")
    raw_id_fields = ("found_via", "job")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    list_per_page = 100
    actions = ("discover_now", "skip")
    inlines = [DiscoveryAttemptInline]
    readonly_fields = (
        "username",
        "found_via",
        "status",
        "reason",
        "detail",
        "attempts",
        "next_attempt_at",
        "started_at",
        "finished_at",
        "job",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        return False  # candidates come from related profiles (the intake)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the detail page is read-only; the actions change candidates

    @admin.display(description="found via", ordering="found_via__username")
    def found_via_link(self, candidate: DiscoveryCandidate) -> str:
        if candidate.found_via_id is None:
            return "-"
        url = reverse("admin:profiles_profile_change", args=[candidate.found_via_id])
        return format_html('<a href="{}">@{}</a>', url, candidate.found_via.username)

    @admin.display(description="job")
    def job_link(self, candidate: DiscoveryCandidate) -> str:
        if candidate.job_id is None:
            return "-"
        url = reverse("admin:analysis_analysisjob_change", args=[candidate.job_id])
        return format_html('<a href="{}">{}</a>', url, candidate.job.status)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "queue_stats": discovery_queue_stats()}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.action(description="Discover now (start the whole analysis at once, outside the limits)")
    def discover_now(self, request, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True)[: DISCOVER_NOW_MAX + 1])
        if len(ids) > DISCOVER_NOW_MAX:
            self.message_user(
                request, f"Select at most {DISCOVER_NOW_MAX} candidates to discover now.", level=messages.ERROR
            )
            return
        counts = queue.candidates_discover_now(candidate_ids=ids)
        self.message_user(
            request,
            f"{counts['started']} started, {counts['skipped']} skipped (already complete), "
            f"{counts['untouched']} left alone (running).",
            level=messages.SUCCESS,
        )

    @admin.action(description="Skip (queued or failed candidates)")
    def skip(self, request, queryset) -> None:
        skipped = queue.candidates_skip(candidate_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{skipped} candidate(s) skipped.", level=messages.SUCCESS)
