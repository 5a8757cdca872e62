"""Benchmark routes: the project's routes plus a bare Django JSON view, the baseline.

``GET /bench/bare`` goes through the same middleware stack as the API but does no
authentication, no DRF and no database or cache work: what Django itself costs per request
on this machine, measured in the same run as the report.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare", bare, name="bench-bare"), *project_urlpatterns]
