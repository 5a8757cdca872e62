"""The one DRF exception handler: every error is ``{"error": {"code", "message", "details"}}``."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            msg = _first_message(value)
            return msg if key == "non_field_errors" else f"{key}: {msg}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
        retry_after = exc.details.get("retry_after") if isinstance(exc.details, dict) else None
        if retry_after:
            response["Retry-After"] = str(int(retry_after))
        return response

    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(details)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handling and logging take over

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", _first_message(detail), detail)
    else:
        detail = getattr(exc, "detail", str(exc))
        code = detail.code if hasattr(detail, "code") else getattr(exc, "default_code", "error")
        details: dict[str, Any] = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details["retry_after"] = int(exc.wait + 0.999)
        if isinstance(detail, dict):
            details.update({k: v for k, v in detail.items() if k != "detail"})
            message = str(detail.get("detail", _first_message(detail)))
            code = getattr(detail.get("detail"), "code", code) if "detail" in detail else code
            # simplejwt says which token problem it is in its own "code" (token_not_valid, ...)
            code = str(details.pop("code", code))
        else:
            message = str(detail)
        response.data = error_body(str(code), message, details)
    if response.status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("API error %s: %s", response.status_code, response.data)
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# What Django's own error pages become under /api/: the handlers below, and (under DEBUG,
# where Django renders its HTML pages instead) ``config.middleware.ApiInputGuardMiddleware``.
DJANGO_ERRORS = {
    400: ("bad_request", "The request is malformed."),
    403: ("permission_denied", "You may not do this."),
    404: ("not_found", "Not found."),
}


def django_error_response(status_code: int) -> JsonResponse:
    code, message = DJANGO_ERRORS[status_code]
    return JsonResponse(error_body(code, message), status=status_code)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Unknown URLs under /api/ answer in the error format; the rest get Django's page."""
    return django_error_response(404) if _is_api(request) else defaults.page_not_found(request, exception)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Requests Django refuses before any view (too many fields, a bad Host, ...) under /api/."""
    return django_error_response(400) if _is_api(request) else defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A permission refused outside DRF views (a CSRF refusal of a plain view) under /api/."""
    return django_error_response(403) if _is_api(request) else defaults.permission_denied(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """Unhandled errors under /api/ answer in the error format (the traceback is logged)."""
    if _is_api(request):
        return JsonResponse(error_body("server_error", "Internal server error."), status=500)
    return defaults.server_error(request)
