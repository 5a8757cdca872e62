"""API conventions: every error renders {"error": {"code", "message", "details"}}; pagination.

Throwaway views in this module, mounted with ``pytest.mark.urls(__name__)``, exercise each
error path of the one exception handler without depending on any app's endpoints.
"""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from config import errors

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


class _Input(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    count = serializers.IntegerField(min_value=1)


class ValidateView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = _Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class DjangoValidateView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise DjangoValidationError({"email": ["Enter a valid email address."]})


class PrivateView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


class _Never(BasePermission):
    message = "Staff only."

    def has_permission(self, request, view):
        return False


class ForbiddenView(APIView):
    permission_classes = [_Never]

    def get(self, request):
        return Response({"ok": True})


class MissingView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise Http404("no such thing")


class _OnePerMinute(AnonRateThrottle):
    scope = "conventions_test"
    rate = "1/min"

    def get_rate(self):
        return self.rate


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [_OnePerMinute]

    def get(self, request):
        return Response({"ok": True})


ERROR_CLASSES = {
    "validation": errors.ValidationFailed,
    "payment": errors.PaymentRequired,
    "permission": errors.PermissionDenied,
    "notfound": errors.NotFound,
    "conflict": errors.Conflict,
    "unavailable": errors.ServiceUnavailable,
    "base": errors.ApplicationError,
}


class AppErrorView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        raise ERROR_CLASSES[kind](f"{kind} happened", details={"kind": kind})


class RetryLaterView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise errors.ServiceUnavailable("Try later.", code="busy", details={"retry_after": 7})


class NumbersView(generics.GenericAPIView):
    permission_classes = [AllowAny]

    def get(self, request):
        page = self.paginate_queryset(list(range(1, 251)))
        return self.get_paginated_response(page)


class CrashView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [
    path("api/t/validate", ValidateView.as_view()),
    path("api/t/django-validate", DjangoValidateView.as_view()),
    path("api/t/private", PrivateView.as_view()),
    path("api/t/forbidden", ForbiddenView.as_view()),
    path("api/t/missing", MissingView.as_view()),
    path("api/t/throttled", ThrottledView.as_view()),
    path("api/t/app-error/<str:kind>", AppErrorView.as_view()),
    path("api/t/retry-later", RetryLaterView.as_view()),
    path("api/t/numbers", NumbersView.as_view()),
    path("api/t/crash", CrashView.as_view()),
]
handler404 = "config.api.exceptions.handler404"
handler500 = "config.api.exceptions.handler500"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def test_400_carries_field_errors_in_details(anon_client):
    error = assert_error(anon_client.post("/api/t/validate", {"name": "toolong"}, format="json"), 400, "invalid")
    assert set(error["details"]) == {"name", "count"}
    assert error["details"]["count"] == ["This field is required."]
    assert error["message"].startswith("name:")


def test_django_validation_errors_are_400_too(anon_client):
    error = assert_error(anon_client.get("/api/t/django-validate"), 400, "invalid")
    assert error["details"] == {"email": ["Enter a valid email address."]}


def test_malformed_json_is_a_400_in_the_format(anon_client):
    response = anon_client.generic("POST", "/api/t/validate", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_401_without_credentials(anon_client):
    response = anon_client.get("/api/t/private")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_401_with_a_bad_token(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    error = assert_error(anon_client.get("/api/t/private"), 401, "token_not_valid")
    assert "messages" in error["details"] or error["details"] == {}


def test_403(api_client):
    error = assert_error(api_client.get("/api/t/forbidden"), 403, "permission_denied")
    assert error["message"] == "Staff only."


def test_404_from_a_view_and_from_an_unknown_api_url(anon_client):
    assert_error(anon_client.get("/api/t/missing"), 404, "not_found")
    assert_error(anon_client.get("/api/t/no-such-endpoint"), 404, "not_found")


def test_405(anon_client):
    error = assert_error(anon_client.delete("/api/t/missing"), 405, "method_not_allowed")
    assert "DELETE" in error["message"]


def test_429_has_retry_after(anon_client):
    assert anon_client.get("/api/t/throttled").status_code == 200
    response = anon_client.get("/api/t/throttled")
    error = assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert error["details"]["retry_after"] == int(response["Retry-After"])


@pytest.mark.parametrize("kind", sorted(ERROR_CLASSES))
def test_application_errors_map_to_their_status(anon_client, kind):
    cls = ERROR_CLASSES[kind]
    error = assert_error(anon_client.get(f"/api/t/app-error/{kind}"), cls.status_code, cls.default_code)
    assert error["message"] == f"{kind} happened"
    assert error["details"] == {"kind": kind}


def test_application_error_with_retry_after_sets_the_header(anon_client):
    response = anon_client.get("/api/t/retry-later")
    assert_error(response, 503, "busy")
    assert response["Retry-After"] == "7"


def test_unhandled_error_is_a_500_in_the_format(anon_client):
    anon_client.raise_request_exception = False
    assert_error(anon_client.get("/api/t/crash"), 500, "server_error")


def test_pagination_defaults_to_20(anon_client):
    body = anon_client.get("/api/t/numbers").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 250
    assert body["results"] == list(range(1, 21))
    assert body["previous"] is None
    assert "page=2" in body["next"]


def test_page_size_is_honoured_up_to_100(anon_client):
    assert len(anon_client.get("/api/t/numbers?page_size=50").json()["results"]) == 50
    over = anon_client.get("/api/t/numbers?page_size=1000")
    assert over.status_code == 400 and "page_size" in over.json()["error"]["details"]
    body = anon_client.get("/api/t/numbers?page=3&page_size=100").json()
    assert body["results"] == list(range(201, 251))
    assert body["next"] is None


def test_a_page_past_the_end_is_a_404_in_the_format(anon_client):
    assert_error(anon_client.get("/api/t/numbers?page=99"), 404, "not_found")
