"""``/metrics`` for the Prometheus scraper only: an allowed network or a bearer token.

Request counts, paths and latencies tell an attacker what runs and how busy it is, so the
page is not public: the scraper reaches it from ``METRICS_ALLOWED_NETWORKS`` (the socket's
address, never a forwarded header) or sends ``Authorization: Bearer <METRICS_TOKEN>``.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_prometheus import exports


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header, f"Bearer {token}"):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS)


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return JsonResponse({"error": {"code": "not_found", "message": "Not found.", "details": {}}}, status=404)
    return exports.ExportToDjangoView(request)
