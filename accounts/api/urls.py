"""Auth API routes, mounted at ``/api/v1/auth/``."""

from django.urls import path

from accounts.api import views

app_name = "accounts"
urlpatterns = [
    path("register", views.RegisterView.as_view(), name="register"),
    path("login", views.LoginView.as_view(), name="login"),
    path("refresh", views.RefreshView.as_view(), name="refresh"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path("me", views.MeView.as_view(), name="me"),
    path("password/change", views.PasswordChangeView.as_view(), name="password-change"),
    path("password/reset", views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/confirm", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("email/verify", views.EmailVerifyView.as_view(), name="email-verify"),
    path("email/verify/resend", views.EmailVerifyResendView.as_view(), name="email-verify-resend"),
]
