"""Output shapes of analysis jobs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analysis.models import AnalysisJob
from analysis.redaction import public_detail


class StageTimingSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.FloatField(allow_null=True)


class JobErrorSerializer(serializers.Serializer):
    stage = serializers.CharField()
    category = serializers.CharField(help_text="not_found, private, rate_limited, transient, timeout, internal ...")
    detail = serializers.CharField()


class AnalysisJobSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(read_only=True, help_text="queued, scrape, media, ai or done")
    timings = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisJob
        fields = [
            "id",
            "username",
            "status",
            "stage",
            "progress",
            "steps",
            "trigger",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "timings",
            "error",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=StageTimingSerializer()))
    def get_timings(self, job: AnalysisJob) -> dict[str, Any]:
        timings = {}
        for stage in ("scrape", "media", "ai"):
            started = getattr(job, f"{stage}_started_at")
            finished = getattr(job, f"{stage}_finished_at")
            seconds = round((finished - started).total_seconds(), 3) if started and finished else None
            timings[stage] = {"started_at": started, "finished_at": finished, "seconds": seconds}
        return timings

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: AnalysisJob) -> dict[str, str] | None:
        if not job.error_category:
            return None
        return {"stage": job.error_stage, "category": job.error_category, "detail": public_detail(job.error_detail)}
