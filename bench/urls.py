"""Benchmark routes: the project's routes plus two baselines measured in the same run.

- ``GET /bench/bare``: the baseline of the targets. It goes through the same middleware
  stack as the API but does no authentication, no DRF and no database or cache work: what
  Django itself costs per request on this machine.
- ``GET /bench/drf``: a DRF view with the API's defaults (JWT authentication, which looks
  the user up in the database, IsAuthenticated, the user and anon throttles) answering
  ``{"ok": true}``: what any authenticated API call costs before its own work, so that the
  report's own cost can be told apart from the framework's.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


class DrfHello(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("bench/bare", bare, name="bench-bare"),
    path("bench/drf", DrfHello.as_view(), name="bench-drf"),
    *project_urlpatterns,
]
