"""CORS: the frontend's origins get the preflight headers, other origins do not."""

import pytest
from django.test import override_settings

ALLOWED = "https://app.example.com"


def preflight(client, origin: str):
    return client.options(
        "/api/v1/auth/login",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
    )


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])
def test_preflight_from_an_allowed_origin(anon_client):
    response = preflight(anon_client, ALLOWED)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "authorization" in response["Access-Control-Allow-Headers"].lower()


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])
def test_preflight_from_another_origin_gets_no_cors_headers(anon_client):
    response = preflight(anon_client, "https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])
def test_actual_response_exposes_the_request_id_to_the_frontend(anon_client):
    response = anon_client.get("/api/health/live", HTTP_ORIGIN=ALLOWED)
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "x-request-id" in response["Access-Control-Expose-Headers"].lower()
