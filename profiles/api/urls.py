"""Creator API routes (under /api/v1/)."""

from django.urls import path

from profiles.api import views

app_name = "profiles"
urlpatterns = [
    path("search/creator/<str:username>", views.CreatorSearchView.as_view(), name="creator-search"),
    path("search/creator/<str:username>/unlock", views.CreatorUnlockView.as_view(), name="creator-unlock"),
    path("profiles/unlocked", views.UnlockedProfilesView.as_view(), name="profiles-unlocked"),
    path("profiles/<str:username>", views.ProfileReportView.as_view(), name="profile-report"),
    path("profiles/<str:username>/posts", views.ProfilePostsView.as_view(), name="profile-posts"),
    path("profiles/<str:username>/related", views.RelatedProfilesView.as_view(), name="profile-related"),
    path("exports", views.ExportCreateView.as_view(), name="export-create"),
    path("exports/<uuid:export_id>", views.ExportDetailView.as_view(), name="export-detail"),
    path("exports/<uuid:export_id>/download", views.ExportDownloadView.as_view(), name="export-download"),
]
