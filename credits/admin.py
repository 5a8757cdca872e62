"""Credits admin: wallets with an "adjust credits" action, a read-only ledger, prices.

Staff change balances only through ``wallet_adjust`` (with a required reason), never by
editing a field: wallet balances and the ledger are read-only here.
"""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from config.errors import ApplicationError
from credits.models import CreditTransaction, Plan, PricingRule, QuotaUsage, SpendRequest, TopUpPackage, Wallet
from credits.services import wallet_adjust

LEDGER_FIELDS = [
    "id",
    "created_at",
    "kind",
    "amount",
    "balance_before",
    "balance_after",
    "action_type",
    "quantity",
    "reference",
    "idempotency_key",
    "buckets",
    "reason",
    "actor",
    "refund_of",
]


class AdjustCreditsForm(forms.Form):
    amount = forms.IntegerField(help_text="Credits to add (positive) or remove (negative); never below zero.")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("The amount cannot be zero.")
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason


class CreditTransactionInline(admin.TabularInline):
    model = CreditTransaction
    fk_name = "wallet"
    fields = ["created_at", "kind", "amount", "balance_after", "action_type", "reference", "reason", "actor"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    # The account is a team's id: the team admin links here (credits knows no teams).
    list_display = ["account_id", "plan", "balance", "lifetime_earned", "lifetime_spent", "cycle_start", "cycle_end"]
    list_filter = ["plan", "free_allowances"]
    list_select_related = ["plan"]
    search_fields = ["=account_id"]
    readonly_fields = [
        "account_id",
        "balance",
        "lifetime_earned",
        "lifetime_spent",
        "plan",
        "cycle_anchor",
        "cycle_start",
        "cycle_end",
        "created_at",
        "updated_at",
    ]
    inlines = [CreditTransactionInline]
    actions = ["adjust_credits"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # wallets are created by wallet_get_or_create

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Adjust credits (amount and reason)")
    def adjust_credits(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if "apply" in request.POST:
            form = AdjustCreditsForm(request.POST)
            if form.is_valid():
                done = 0
                for wallet in queryset:
                    try:
                        wallet_adjust(
                            wallet=wallet,
                            amount=form.cleaned_data["amount"],
                            reason=form.cleaned_data["reason"],
                            actor=request.user,
                        )
                        done += 1
                    except ApplicationError as exc:
                        self.message_user(request, f"wallet {wallet.account_id}: {exc.message}", messages.ERROR)
                if done:
                    self.message_user(request, f"Adjusted {done} wallet(s).", messages.SUCCESS)
                return None
        else:
            form = AdjustCreditsForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust credits",
            "form": form,
            "wallets": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/credits/adjust_credits.html", context)


@admin.register(CreditTransaction)
class CreditTransactionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "wallet", "kind", "amount", "balance_after", "action_type", "reference", "actor"]
    list_filter = ["kind", "action_type", "created_at"]
    list_select_related = ["wallet", "actor"]
    search_fields = ["actor__email", "reference", "reason", "idempotency_key"]
    readonly_fields = [*LEDGER_FIELDS, "wallet", "cycle_start"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Export selected transactions as CSV")
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="credit-transactions.csv"'
        writer = csv.writer(response)
        writer.writerow(["wallet_account", *LEDGER_FIELDS])
        for tx in queryset.select_related("wallet", "actor").order_by("created_at", "id"):
            row = [getattr(tx, f) for f in LEDGER_FIELDS]
            row[LEDGER_FIELDS.index("actor")] = tx.actor.email if tx.actor else ""
            row[LEDGER_FIELDS.index("refund_of")] = tx.refund_of_id or ""
            writer.writerow([tx.wallet.account_id, *row])
        return response


@admin.register(PricingRule)
class PricingRuleAdmin(admin.ModelAdmin):
    list_display = ["action_type", "credits_per_unit", "free_uses_per_month", "active", "description"]
    list_editable = ["credits_per_unit", "free_uses_per_month", "active"]
    list_filter = ["active"]
    search_fields = ["action_type", "description"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "monthly_price_cents",
        "annual_price_cents",
        "seats",
        "profiles_per_month",
        "emails_per_month",
        "posts_per_month",
        "topup_discount_percent",
    ]


@admin.register(TopUpPackage)
class TopUpPackageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "credits", "price_cents", "active"]
    list_editable = ["active"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QuotaUsage)
class QuotaUsageAdmin(_ReadOnlyAdmin):
    list_display = ["wallet", "cycle_start", "action_type", "free_used", "plan_used"]
    list_filter = ["action_type"]
    list_select_related = ["wallet"]
    search_fields = ["=wallet__account_id"]


@admin.register(SpendRequest)
class SpendRequestAdmin(_ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "idempotency_key", "action_type", "quantity", "outcome"]
    list_filter = ["outcome", "action_type"]
    list_select_related = ["wallet"]
    search_fields = ["idempotency_key", "reference"]
