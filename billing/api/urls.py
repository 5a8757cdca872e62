"""billing API routes, mounted at /api/v1/billing/."""

from django.urls import path

from billing.api import views

app_name = "billing"
urlpatterns = [
    path("plans", views.PlansView.as_view(), name="plans"),
    path("checkout/subscription", views.SubscriptionCheckoutView.as_view(), name="checkout-subscription"),
    path("checkout/topup", views.TopUpCheckoutView.as_view(), name="checkout-topup"),
    path("portal", views.PortalView.as_view(), name="portal"),
    path("subscription", views.SubscriptionView.as_view(), name="subscription"),
    path("subscription/change", views.SubscriptionChangeView.as_view(), name="subscription-change"),
    path("subscription/cancel", views.SubscriptionCancelView.as_view(), name="subscription-cancel"),
    path("subscription/resume", views.SubscriptionCancelView.as_view(resume=True), name="subscription-resume"),
    path("invoices", views.InvoicesView.as_view(), name="invoices"),
]
