"""credits API routes, mounted at /api/v1/credits/."""

from django.urls import path

from credits.api import views

app_name = "credits"
urlpatterns = [
    path("balance", views.BalanceView.as_view(), name="balance"),
    path("wallet/summary", views.WalletSummaryView.as_view(), name="wallet-summary"),
    path("wallet/create", views.WalletCreateView.as_view(), name="wallet-create"),
    path("dashboard", views.DashboardView.as_view(), name="dashboard"),
    path("transactions", views.TransactionListView.as_view(), name="transactions"),
    path("transactions/search", views.TransactionSearchView.as_view(), name="transactions-search"),
    path("usage/monthly", views.UsageMonthlyView.as_view(), name="usage-monthly"),
    path("analytics/spending", views.SpendingAnalyticsView.as_view(), name="analytics-spending"),
    path("can-perform/<slug:action_type>", views.CanPerformView.as_view(), name="can-perform"),
    path("pricing", views.PricingView.as_view(), name="pricing"),
    path("pricing/calculate", views.PricingCalculateView.as_view(), name="pricing-calculate"),
    path("pricing/<slug:action_type>", views.PricingDetailView.as_view(), name="pricing-detail"),
    path("allowances", views.AllowancesView.as_view(), name="allowances"),
    path("system/stats", views.SystemStatsView.as_view(), name="system-stats"),
]
