"""Health probes: ``/api/health`` (every dependency, fast), ``live`` and ``ready``.

Each check runs with a short timeout (``HEALTH_CHECK_TIMEOUT``) so that a hung dependency
makes the answer ``degraded``, never slow. Only the database is essential: without it the
status is ``down`` (503); a cache, broker or storage failure is ``degraded`` (200) because
the API still answers.
"""

import hmac
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")
_migrations_applied = False


def _check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "in-request"


def _check_cache() -> str:
    key, value = f"health:{uuid.uuid4().hex}", "1"
    cache.set(key, value, timeout=5)
    if cache.get(key) != value:  # django-redis swallows errors; a miss means it is down
        raise ConnectionError("cache did not return the value just written")
    cache.delete(key)
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process (eager)"
    from kombu import Connection

    timeout = settings.HEALTH_CHECK_TIMEOUT
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options) as conn:
        # No retries: kombu's first retry alone waits two seconds.
        conn.ensure_connection(max_retries=0, timeout=timeout)
    return "connected"


def _check_storage() -> str:
    default_storage.exists("health/probe")
    return type(default_storage._wrapped if hasattr(default_storage, "_wrapped") else default_storage).__name__


def _timed(check: Callable[[], str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
        result = {"status": "ok", "detail": detail}
    except Exception as exc:  # noqa: BLE001 - a probe reports any failure, it never raises
        result = {"status": "error", "detail": f"{type(exc).__name__}: {exc}"[:200]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


# The check of each dependency still running, if any: a hung dependency holds one thread,
# and later probes wait on that same check instead of piling up new ones in the pool.
_in_flight: dict[str, Future] = {}
_in_flight_lock = threading.Lock()


def _submit(name: str, check: Callable[[], str]) -> Future:
    with _in_flight_lock:
        future = _in_flight.get(name)
        if future is None or future.done():
            future = _in_flight[name] = _executor.submit(_timed, check)
        return future


def run_checks() -> dict[str, Any]:
    timeout = settings.HEALTH_CHECK_TIMEOUT
    deadline = time.monotonic() + timeout  # one budget for all checks, not one each
    futures = {name: _submit(name, fn) for name, fn in
               (("cache", _check_cache), ("broker", _check_broker), ("storage", _check_storage))}  # fmt: skip
    checks = {"database": _timed(_check_database)}  # in the request thread: its own connection
    wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
    for name, future in futures.items():
        if future.done():
            checks[name] = future.result()
        else:
            checks[name] = {"status": "timeout", "detail": f"no answer within {timeout}s", "ms": timeout * 1000}
    if checks["database"]["status"] != "ok":
        overall = "down"
    elif any(check["status"] != "ok" for check in checks.values()):
        overall = "degraded"
    else:
        overall = "ok"
    return {"status": overall, "checks": checks}


_check_shape = inline_serializer(
    "HealthCheck",
    {"status": serializers.CharField(), "detail": serializers.CharField(), "ms": serializers.FloatField()},
)
_health_shape = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "down"]),
        "checks": inline_serializer(
            "HealthChecks",
            {name: _check_shape for name in ("database", "cache", "broker", "storage")},
        ),
    },
)
_simple_shape = inline_serializer("Probe", {"status": serializers.CharField()})


def _probe(view):
    view = throttle_classes([])(view)
    view = permission_classes([AllowAny])(view)
    return authentication_classes([])(view)


@extend_schema(tags=["health"], responses={200: _health_shape, 503: OpenApiResponse(_health_shape)})
@api_view(["GET"])
@_probe
def health(request: Request) -> Response:
    body = run_checks()
    if not _may_see_details(request):
        # Hosts, ports and driver messages help an attacker map the network: the public
        # answer keeps each dependency's status and timing only.
        for check in body["checks"].values():
            check["detail"] = check["status"]
    return Response(body, status=503 if body["status"] == "down" else 200)


def _may_see_details(request: Request) -> bool:
    """Staff (session) and internal probes (``HEALTH_DETAILS_TOKEN`` in ``X-Health-Token``)."""
    token = settings.HEALTH_DETAILS_TOKEN
    if token and hmac.compare_digest(request.headers.get("X-Health-Token", ""), token):
        return True
    try:
        user = getattr(request._request, "user", None)  # the session user (no DRF auth on probes)
        return bool(user is not None and user.is_authenticated and user.is_staff)
    except DatabaseError:  # the session store is down: the public answer
        return False


@extend_schema(tags=["health"], responses={200: _simple_shape})
@api_view(["GET"])
@_probe
def live(request: Request) -> Response:
    return Response({"status": "ok"})


def _migrations_pending() -> bool:
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        _migrations_applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return not _migrations_applied


@extend_schema(tags=["health"], responses={200: _simple_shape, 503: OpenApiResponse(_simple_shape)})
@api_view(["GET"])
@_probe
def ready(request: Request) -> Response:
    try:
        _check_database()
        if _migrations_pending():
            return Response({"status": "migrations pending"}, status=503)
    except Exception as exc:  # noqa: BLE001 - readiness reports, it never raises
        return Response({"status": f"database unavailable: {type(exc).__name__}"}, status=503)
    return Response({"status": "ready"})
