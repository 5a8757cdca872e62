"""Admin for image assets: previews, the failures report and a "retry" action."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from cdn.models import ImageAsset
from cdn.services import image_assets_store_many


@admin.register(ImageAsset)
class ImageAssetAdmin(admin.ModelAdmin):
    list_display = (
        "preview",
        "kind",
        "status",
        "error_category",
        "attempts",
        "width",
        "height",
        "bytes",
        "short_source",
        "last_attempt_at",
    )
    list_filter = ("status", "kind", "error_category")
    search_fields = ("source_url", "content_sha256", "storage_key")
    date_hierarchy = "created_at"
    actions = ("retry_failed",)
    # Everything is written by the cdn services; editing by hand would desynchronise the row
    # from the stored object.
    readonly_fields = (
        "preview_large",
        "source_url",
        "source_url_hash",
        "kind",
        "status",
        "content_sha256",
        "storage_key",
        "public_url",
        "width",
        "height",
        "bytes",
        "format",
        "attempts",
        "error_category",
        "last_error",
        "last_attempt_at",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Preview")
    def preview(self, obj: ImageAsset) -> str:
        if not obj.public_url:
            return "-"
        return format_html(
            '<img src="{}" alt="" loading="lazy" style="max-height:48px;max-width:48px">', obj.public_url
        )

    @admin.display(description="Preview")
    def preview_large(self, obj: ImageAsset) -> str:
        if not obj.public_url:
            return "-"
        return format_html('<img src="{}" alt="" style="max-width:320px">', obj.public_url)

    @admin.display(description="Source", ordering="source_url")
    def short_source(self, obj: ImageAsset) -> str:
        return obj.source_url if len(obj.source_url) <= 60 else f"{obj.source_url[:57]}..."

    @admin.action(description="Retry failed: store the selected assets again now (forced)")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[ImageAsset]) -> None:
        items = [(asset.source_url, asset.kind) for asset in queryset]
        results = image_assets_store_many(items=items, force=True)
        ready = sum(1 for asset in results.values() if asset.status == ImageAsset.Status.READY)
        failed = len(results) - ready
        level = messages.SUCCESS if not failed else messages.WARNING
        self.message_user(request, f"{ready} asset(s) ready, {failed} still failing.", level)
