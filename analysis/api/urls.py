"""Analysis API routes (under /api/v1/analysis/)."""

from django.urls import path

from analysis.api import views

app_name = "analysis"
urlpatterns = [
    path("jobs/<uuid:job_id>", views.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<uuid:job_id>/events", views.JobEventsView.as_view(), name="job-events"),
]
