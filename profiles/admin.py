"""profiles admin: provider calls, with what scraping costs per day and per creator."""

from django.contrib import admin
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from profiles.models import ProviderCall

SUMMARY_ROWS = 31


@admin.register(ProviderCall)
class ProviderCallAdmin(admin.ModelAdmin):
    """Read-only: rows are written by ``profiles.services.provider_call_record`` only.

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
