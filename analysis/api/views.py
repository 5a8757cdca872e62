"""Job progress: the job as JSON, and its events as a server-sent-events stream."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, connection
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.api.serializers import AnalysisJobSerializer
from analysis.api.streams import SlotStream, stream_slot_take
from analysis.models import AnalysisJob
from analysis.selectors import job_events_after, job_get
from profiles.selectors import actor_of
from teams.api.mixins import TeamScopedMixin


class JobDetailView(TeamScopedMixin, APIView):
    @extend_schema(tags=["analysis"], responses={200: AnalysisJobSerializer}, summary="An analysis job's progress")
    def get(self, request: Request, job_id) -> Response:
        return Response(AnalysisJobSerializer(job_get(job_id=job_id, actor=actor_of(request))).data)


class EventStreamRenderer(renderers.BaseRenderer):
    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        # Only errors reach this renderer (the stream itself bypasses it): send them as one event.
        return f"event: error\ndata: {json.dumps(data, cls=DjangoJSONEncoder)}\n\n".encode()


def _sse(event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, cls=DjangoJSONEncoder)}\n\n"


def job_event_stream(job: AnalysisJob, after_id: int) -> Iterator[str]:
    """Replay the job's events after ``after_id``, then follow it until it ends.

    The database is polled every ``JOB_EVENTS_POLL_SECONDS`` (a sleep, not a busy loop), with a
    comment line as keep-alive every ``JOB_EVENTS_KEEPALIVE_SECONDS`` (a client gone away is
    noticed at a write, and its thread and stream slot freed); the stream ends by itself when the job ends or after
    ``JOB_EVENTS_MAX_SECONDS`` (the client reconnects with Last-Event-ID).
    """
    yield "retry: 2000\n\n"
    try:
        yield from _follow(job, after_id)
    except (OperationalError, InterfaceError):
        # The database went away mid-stream (restart, failover, a killed backend): the status
        # line is long sent, so say it in the stream and end it; the client reconnects with
        # Last-Event-ID and loses nothing (events are rows, read again from where it was).
        connection.close()
        error = {"code": "database_unavailable", "message": "The database is unavailable; reconnect shortly."}
        yield _sse("error", {"error": {**error, "details": {"retry_after": 5}}})


def _follow(job: AnalysisJob, after_id: int) -> Iterator[str]:
    deadline = time.monotonic() + settings.JOB_EVENTS_MAX_SECONDS
    last_beat = time.monotonic()
    while True:
        for event in job_events_after(job=job, after_id=after_id):
            after_id = event.id
            payload = {
                "status": event.status,
                "progress": event.progress,
                "message": event.message,
                "data": event.data,
                "at": event.created_at,
            }
            yield _sse("progress", payload, event.id)
        job.refresh_from_db()
        if job.status in AnalysisJob.TERMINAL_STATUSES and not job_events_after(job=job, after_id=after_id):
            yield _sse("end", AnalysisJobSerializer(job).data)
            return
        if time.monotonic() > deadline:
            yield _sse("timeout", {"status": job.status, "progress": job.progress})
            return
        if time.monotonic() - last_beat > settings.JOB_EVENTS_KEEPALIVE_SECONDS:
            last_beat = time.monotonic()
            yield ": keep-alive\n\n"
        time.sleep(settings.JOB_EVENTS_POLL_SECONDS)


class JobEventsView(TeamScopedMixin, APIView):
    # JSON errors by default; EventSource clients (Accept: text/event-stream) get them as an event.
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]

    @extend_schema(
        tags=["analysis"],
        summary="Server-sent events of a job's progress until it ends",
        description="`text/event-stream`: `progress` events (id = event id; resume with the "
        "`Last-Event-ID` header), then one `end` event carrying the job. Ends by itself after "
        "`JOB_EVENTS_MAX_SECONDS` with a `timeout` event: reconnect with `Last-Event-ID`. At most "
        "`JOB_EVENTS_MAX_STREAMS_PER_USER` open streams per user (and a per-server limit): beyond, "
        "429 `too_many_streams` with `Retry-After`.",
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="SSE stream: `progress` events, then `end` (or `timeout`); each data a JSON object",
            ),
            404: OpenApiResponse(description="`job_not_found`: no such job, or not yours"),
            429: OpenApiResponse(description="`too_many_streams`: too many open streams; retry after `Retry-After`"),
        },
    )
    def get(self, request: Request, job_id) -> StreamingHttpResponse:
        job = job_get(job_id=job_id, actor=actor_of(request))
        try:
            after_id = int(request.headers.get("Last-Event-ID") or request.query_params.get("after") or 0)
        except ValueError:
            after_id = 0
        lease = stream_slot_take(user_id=request.user.pk)
        events = SlotStream(job_event_stream(job, after_id), user_id=request.user.pk, lease=lease)
        response = StreamingHttpResponse(events, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
        return response
