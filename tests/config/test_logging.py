"""Request ids and log formats: every log line of a request carries its id."""

import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from tests.config.subprocess_settings import clean_env, run_python

logger = logging.getLogger("tests.config.logging_view")


@api_view(["GET"])
@permission_classes([AllowAny])
def chatty(request):
    logger.info("first line")
    logging.getLogger("some.library").warning("second line")
    return Response({"ok": True})


urlpatterns = [path("api/t/chatty", chatty)]


@pytest.fixture
def console_output():
    """The console handler configured by settings.LOGGING, writing into a buffer."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler) and h.filters)
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(old)


@pytest.mark.urls(__name__)
def test_every_log_record_of_a_request_carries_its_id(anon_client, caplog):
    caplog.set_level(logging.INFO)
    response = anon_client.get("/api/t/chatty")
    request_id = response["X-Request-ID"]
    records = [r for r in caplog.records if r.getMessage() in {"first line", "second line"}]
    assert len(records) == 2
    assert {r.request_id for r in records} == {request_id}
    access = [r for r in caplog.records if r.name == "config.request"]
    assert access and access[0].request_id == request_id
    assert access[0].status == 200 and access[0].path == "/api/t/chatty"


def test_outside_a_request_the_id_is_a_dash(caplog):
    caplog.set_level(logging.INFO)
    logger.info("no request here")
    assert caplog.records[-1].request_id == "-"


@pytest.mark.urls(__name__)
def test_console_lines_show_the_request_id(anon_client, console_output):
    response = anon_client.get("/api/t/chatty", HTTP_X_REQUEST_ID="frontend-abc-12345")
    assert response["X-Request-ID"] == "frontend-abc-12345"
    lines = [line for line in console_output.getvalue().splitlines() if "line" in line]
    assert len(lines) == 2
    assert all("[frontend-abc-12345]" in line for line in lines), lines


@pytest.mark.django_db
def test_a_request_id_is_generated_when_absent(anon_client):
    first = anon_client.get("/api/health/live")["X-Request-ID"]
    second = anon_client.get("/api/health/live")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["short", "has spaces in it", "x" * 200, "evil\r\nSet-Cookie: a=b", "<script>alert(1)</script>"],
)
def test_an_insane_incoming_id_is_replaced(anon_client, incoming):
    response = anon_client.get("/api/health/live", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_json_formatter_from_settings_emits_one_object_per_line():
    config = dict(settings.LOGGING["formatters"]["json"])
    factory = config.pop("()")
    assert factory == "pythonjsonlogger.json.JsonFormatter"
    from pythonjsonlogger.json import JsonFormatter

    config["fmt"] = config.pop("format")  # as logging.config.dictConfig passes it
    formatter = JsonFormatter(**config)
    record = logging.getLogger("x.y").makeRecord("x.y", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.request_id = "req-12345678"
    record.status = 503
    data = json.loads(formatter.format(record))
    assert data["message"] == "hello world"
    assert data["level"] == "WARNING"
    assert data["logger"] == "x.y"
    assert data["request_id"] == "req-12345678"
    assert data["status"] == 503
    assert "time" in data


@pytest.mark.slow
def test_production_logs_are_json_with_the_request_id():
    code = (
        "import django, logging\n"
        "django.setup()\n"
        "from config.logging import request_id_var\n"
        "request_id_var.set('prod-req-0001')\n"
        "logging.getLogger('probe').warning('in production')\n"
    )
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k" * 60,
        DJANGO_ALLOWED_HOSTS="api.example.com",
    )
    result = run_python(code, env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    probe = [line for line in lines if line.get("logger") == "probe"]
    assert probe == [
        {
            "time": probe[0]["time"],
            "level": "WARNING",
            "logger": "probe",
            "message": "in production",
            "request_id": "prod-req-0001",
        }
    ]
