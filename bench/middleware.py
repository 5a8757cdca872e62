"""Benchmark-only middleware: the server-side time of each response in a header.

Installed outermost by ``bench.settings`` only, so it measures the whole Django stack (every
other middleware, URL resolution, the view, rendering) but not gunicorn's socket work.
"""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return response
