"""The User admin: email logins (no username), suspension through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import User
from accounts.selectors import user_email_taken


class _EmailFormMixin:
    """The model's unique constraint is on ``lower(email)``: check it as a field error."""

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        instance_pk = self.instance.pk if self.instance and not self.instance._state.adding else None
        if user_email_taken(email=email, exclude_user_id=instance_pk):
            raise forms.ValidationError("A user with this email address already exists.", code="unique")
        return email


class UserCreationAdminForm(_EmailFormMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class UserChangeAdminForm(_EmailFormMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = ("email", "full_name", "role", "status", "is_staff", "email_verified", "created_at")
    list_filter = ("role", "status", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    search_help_text = "Search by email or name."
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    # Status changes go through the actions so that suspension also revokes tokens.
    readonly_fields = ("id", "status", "email_verified_at", "last_login", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("full_name", "preferences")}),
        ("Access", {"fields": ("role", "status", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("email_verified_at", "last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    actions = ("suspend_users", "reactivate_users")

    @admin.display(boolean=True, description="Email verified", ordering="email_verified_at")
    def email_verified(self, obj: User) -> bool:
        return obj.is_email_verified

    @admin.action(description="Suspend selected users (revokes their sessions)")
    def suspend_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset:
            if user.pk == request.user.pk:
                self.message_user(request, "You cannot suspend your own account.", messages.WARNING)
                continue
            services.user_suspend(user=user)
            count += 1
        self.message_user(request, f"Suspended {count} user(s).", messages.SUCCESS)

    @admin.action(description="Reactivate selected users")
    def reactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset:
            services.user_reactivate(user=user)
            count += 1
        self.message_user(request, f"Reactivated {count} user(s).", messages.SUCCESS)
