"""Teams admin: teams with their members and pending invitations, plan, seats and balance.

Actions call services: "change plan" is a staff grant (``teams.services.team_plan_set``,
through the credits service that sets a wallet's plan) and "transfer ownership" goes
through ``teams.services.ownership_transfer``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from config.errors import ApplicationError
from credits import selectors as credits_selectors
from teams import selectors, services
from teams.models import Invitation, Membership, Team


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=credits_selectors.plan_list(), to_field_name="code", empty_label=None)


class TransferOwnershipForm(forms.Form):
    new_owner_email = forms.EmailField(help_text="A member of the team; the current owner becomes an admin.")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["user", "role", "joined_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # members join by invitation; roles change through the services


class PendingInvitationInline(admin.TabularInline):
    model = Invitation
    verbose_name_plural = "pending invitations"
    extra = 0
    fields = ["email", "role", "invited_by", "expires_at", "created_at"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invitation]:
        return super().get_queryset(request).filter(status=Invitation.Status.PENDING).select_related("invited_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_personal", "owner_email", "plan", "seats", "balance", "created_at"]
    list_filter = ["is_personal", "flagged_for_staff", "created_at"]
    search_fields = ["name", "slug", "memberships__user__email"]
    readonly_fields = ["id", "created_by", "created_at", "updated_at", "owner_email", "plan", "seats", "balance"]
    fields = [
        "id",
        "name",
        "slug",
        "is_personal",
        "billing_email_override",
        "flagged_for_staff",
        "flagged_reason",
        "created_by",
        "owner_email",
        "plan",
        "seats",
        "balance",
        "created_at",
        "updated_at",
    ]
    list_select_related = ["created_by"]
    inlines = [MembershipInline, PendingInvitationInline]
    actions = ["change_plan", "transfer_ownership"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False  # a member-email search joins memberships

    @admin.display(description="owner")
    def owner_email(self, obj: Team) -> str:
        owner = selectors.team_owner(obj)
        return owner.email if owner else "—"

    @admin.display(description="plan")
    def plan(self, obj: Team) -> str:
        return selectors.team_plan(obj).name

    @admin.display(description="seats used / seats")
    def seats(self, obj: Team) -> str:
        seats = selectors.team_seats(team=obj)
        return f"{seats.used} / {seats.seats}" + (" (over the limit)" if seats.over_limit else "")

    @admin.display(description="balance")
    def balance(self, obj: Team) -> int:
        wallet = selectors.team_wallet(obj)
        return wallet.balance if wallet else 0

    def _action_page(self, request: HttpRequest, queryset: Any, **context: Any) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "teams": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        }
        return TemplateResponse(request, "admin/teams/team_action.html", context)

    @admin.action(description="Change plan (staff grant, no payment)")
    def change_plan(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        form = ChangePlanForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for team in queryset:
                try:
                    services.team_plan_set(team=team, plan_code=form.cleaned_data["plan"].code, actor=request.user)
                    done += 1
                except ApplicationError as exc:
                    self.message_user(request, f"{team}: {exc.message}", messages.ERROR)
            if done:
                self.message_user(request, f"Plan set on {done} team(s).", messages.SUCCESS)
            return None
        return self._action_page(
            request,
            queryset,
            title="Change plan",
            intro="Put the selected teams on a plan without payment. A downgrade keeps every member.",
            form=form,
            action="change_plan",
            submit_label="Set plan",
        )

    @admin.action(description="Transfer ownership (one team)")
    def transfer_ownership(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one team to transfer its ownership.", messages.ERROR)
            return None
        team = queryset.get()
        form = TransferOwnershipForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            member = team.memberships.filter(user__email__iexact=form.cleaned_data["new_owner_email"]).first()
            if member is None:
                self.message_user(request, "That person is not a member of the team.", messages.ERROR)
                return None
            try:
                services.ownership_transfer(team=team, actor=None, user_id=member.user_id)
            except ApplicationError as exc:
                self.message_user(request, f"{team}: {exc.message}", messages.ERROR)
                return None
            self.message_user(request, f"{member.user.email} now owns {team}.", messages.SUCCESS)
            return None
        return self._action_page(
            request,
            queryset,
            title="Transfer ownership",
            intro="Make a member the owner of the team; the current owner becomes an admin.",
            form=form,
            action="transfer_ownership",
            submit_label="Transfer ownership",
        )
