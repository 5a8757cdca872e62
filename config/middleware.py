"""Middleware: a request id on every request, its log lines and its response."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.logging import request_id_var

logger = logging.getLogger("config.request")

# Accept an upstream id (load balancer, frontend) only when it looks like an id: it ends
# up in log lines and a response header, so no spaces, control characters or huge values.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
# Probes and scrapes arrive every few seconds; an access line for each would drown the rest.
_QUIET_PATHS = ("/api/health", "/metrics")


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(self.header, "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            if not request.path.startswith(_QUIET_PATHS):
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                logger.info(
                    "%s %s %s %.1fms",
                    request.method,
                    request.path,
                    response.status_code,
                    duration_ms,
                    # Separate fields in JSON logs; the text format shows the message only.
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": duration_ms,
                    },
                )
        finally:
            request_id_var.reset(token)
        response[self.header] = request_id
        return response
