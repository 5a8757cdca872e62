"""Discovery API routes (under /api/v1/discovery/)."""

from django.urls import path

from discovery.api import views

app_name = "discovery"
urlpatterns = [
    path("browse", views.BrowseView.as_view(), name="browse"),
    path("search-advanced", views.AdvancedSearchView.as_view(), name="search-advanced"),
    path("categories", views.CategoriesView.as_view(), name="categories"),
    path("lookalikes/<str:username>", views.LookalikesView.as_view(), name="lookalikes"),
    path("dashboard", views.DashboardView.as_view(), name="dashboard"),
    path("pricing", views.PricingView.as_view(), name="pricing"),
    path("unlock-profile", views.UnlockProfileView.as_view(), name="unlock-profile"),
    path("unlocked-profiles", views.UnlockedProfilesListView.as_view(), name="unlocked-profiles"),
    path("creators/<str:username>/email/unlock", views.EmailUnlockView.as_view(), name="email-unlock"),
]
