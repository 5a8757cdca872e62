"""Billing admin: each team's subscription (resync from Stripe), top-ups, cycle invoices,
webhook deliveries that failed (process again) and the staff revenue view.

Everything shown comes from Stripe: the rows are read-only and actions call services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from djstripe.admin.admin import WebhookEventTriggerAdmin
from djstripe.models import WebhookEventTrigger

from billing.models import BillingAccount, PaidInvoice, StripeEventReaction, TopUpPurchase
from billing.selectors import revenue_summary
from billing.services import team_resync, webhook_trigger_reprocess
from config.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BillingAccount)
class BillingAccountAdmin(ReadOnlyAdmin):
    list_display = [
        "team",
        "plan_code",
        "interval",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "customer_link",
    ]
    list_filter = ["status", "plan_code", "interval", "cancel_at_period_end"]
    search_fields = ["team__name", "team__slug", "stripe_customer_id", "subscription_id"]
    list_select_related = ["team"]
    raw_id_fields = ["team"]
    readonly_fields = ["customer_link", "invoices"]
    actions = ["resync_from_stripe"]
    change_list_template = "admin/billing/billingaccount/change_list.html"

    @admin.display(description="Stripe customer")
    def customer_link(self, obj: BillingAccount) -> str:
        if not obj.stripe_customer_id:
            return "-"
        return format_html(
            '<a href="https://dashboard.stripe.com/customers/{}" target="_blank" rel="noopener">{}</a>',
            obj.stripe_customer_id,
            obj.stripe_customer_id,
        )

    @admin.display(description="Cycle invoices")
    def invoices(self, obj: BillingAccount) -> str:
        rows = PaidInvoice.objects.filter(team_id=obj.team_id)[:24]
        return format_html_join(
            "\n",
            "<div>{} {} {:%Y-%m-%d} to {:%Y-%m-%d} ({} cents)</div>",
            ((i.invoice_id, i.billing_reason, i.period_start, i.period_end, i.amount_paid_cents) for i in rows),
        )

    @admin.action(description="Resync from Stripe")
    def resync_from_stripe(self, request: HttpRequest, queryset) -> None:
        for account in queryset.select_related("team"):
            try:
                team_resync(team=account.team)
            except ApplicationError as exc:
                self.message_user(request, f"{account.team}: {exc.message}", messages.ERROR)
        self.message_user(request, "Resynced from Stripe.", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view(self.revenue_view)
        return [path("revenue/", view, name="billing_revenue"), *super().get_urls()]

    def revenue_view(self, request: HttpRequest) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "title": "Revenue", "summary": revenue_summary()}
        return TemplateResponse(request, "admin/billing/revenue.html", context)


@admin.register(TopUpPurchase)
class TopUpPurchaseAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "team", "package_code", "credits", "amount_cents", "status", "refund_credits_taken"]
    list_filter = ["status", "package_code"]
    search_fields = ["checkout_session_id", "payment_intent_id", "team__name"]
    list_select_related = ["team"]
    raw_id_fields = ["team"]


@admin.register(PaidInvoice)
class PaidInvoiceAdmin(ReadOnlyAdmin):
    list_display = ["invoice_id", "team", "billing_reason", "plan_code", "period_start", "period_end"]
    list_filter = ["billing_reason", "plan_code"]
    search_fields = ["invoice_id", "subscription_id", "team__name"]
    list_select_related = ["team"]


@admin.register(StripeEventReaction)
class StripeEventReactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event_type", "event_id", "team", "outcome"]
    list_filter = ["event_type"]
    search_fields = ["event_id", "team__name"]


class FailedFirstWebhookEventTriggerAdmin(WebhookEventTriggerAdmin):
    """dj-stripe's deliveries list with a "process again" action for the failed ones."""

    actions = ["process_again"]

    @admin.action(description="Process again (valid deliveries whose processing failed)")
    def process_again(self, request: HttpRequest, queryset) -> None:
        done = 0
        for trigger in queryset.filter(valid=True, processed=False):
            try:
                done += webhook_trigger_reprocess(trigger=trigger)
            except Exception as exc:  # noqa: BLE001  (shown to staff; the trigger keeps the traceback)
                self.message_user(request, f"{trigger.pk}: {exc}", messages.ERROR)
        self.message_user(request, f"Processed {done} deliveries again.", messages.SUCCESS)


admin.site.unregister(WebhookEventTrigger)
admin.site.register(WebhookEventTrigger, FailedFirstWebhookEventTriggerAdmin)
