"""Middleware: a request id on every request, its log lines and its response."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.api.exceptions import DJANGO_ERRORS, django_error_response, error_body
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


class ApiInputGuardMiddleware:
    """Edge checks for /api/: what would otherwise reach a 500 or Django's HTML 400.

    - a declared body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` -> 413 in the error format, before
      anything reads it (Django's ``RequestDataTooBig`` is an HTML 400 and an ERROR log);
    - NUL in the path or the query string -> 400 (PostgreSQL cannot store or compare it);
    - a value the database refuses (DataError: out-of-range date or offset, NUL) -> 400;
    - the database unreachable while handling the request -> 503 with ``Retry-After``;
    - Django's HTML 400/403/404 pages (DEBUG; a CSRF refusal) -> the error format, as in production.
    """

    retry_after_seconds = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        refused = self._refuse(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code in DJANGO_ERRORS and response.get("Content-Type", "").startswith("text/html"):
            # Under DEBUG, Django answers with its HTML pages, not the handlers (config.urls).
            return django_error_response(response.status_code)
        return response

    def _refuse(self, request: HttpRequest) -> HttpResponse | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "invalid_content_length", "Content-Length is not a number.")
        if limit is not None and length > limit:
            return _error(
                413, "request_too_large", f"The request body is over the {limit} byte limit.", {"limit_bytes": limit}
            )
        try:
            query = request.GET
        except TooManyFieldsSent:
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            return _error(
                400, "too_many_fields", f"The query string has more than {limit} parameters.", {"limit": limit}
            )
        if (
            "\x00" in request.path
            or "\x00" in query.urlencode()
            or any("\x00" in value for values in query.lists() for value in values[1])
        ):
            return _error(400, "invalid_input", "The request may not contain the NUL character.")
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") and isinstance(exception, DataError):
            # A value PostgreSQL refuses (a NUL or other character it cannot store, a date or
            # time zone offset out of its range, a number too large): the client's input.
            logger.warning("input refused by the database: %s", str(exception).splitlines()[0][:200])
            return _error(400, "invalid_input", "A value in the request is out of the range the database accepts.")
        if request.path.startswith("/api/") and isinstance(exception, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", type(exception).__name__)
            response = _error(503, "database_unavailable", "The database is unavailable; try again shortly.")
            response["Retry-After"] = str(self.retry_after_seconds)
            return response
        return None


def _error(status: int, code: str, message: str, details: dict | None = None) -> HttpResponse:
    return JsonResponse(error_body(code, message, details), status=status)
