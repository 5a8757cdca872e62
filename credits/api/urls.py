"""credits API routes."""

from django.urls import path  # noqa: F401

app_name = "credits"
urlpatterns: list = []
