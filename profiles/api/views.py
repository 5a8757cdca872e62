"""The creator API: search (report or locked preview), unlock, report, posts, related, unlocked.

Views validate input, call services and selectors, and return their data. The unlock is a
paid action: ``requires_credits`` grants access and charges in one transaction.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from analysis import unlocks
from analysis.api.serializers import AnalysisJobSerializer
from analysis.models import AnalysisJob
from analysis.selectors import job_active_for, jobs_visible_to
from config.errors import Conflict
from config.shapes import to_data
from credits.gate import requires_credits
from credits.selectors import credits_quote
from profiles import services as profile_services
from profiles.api import fast_path
from profiles.api import serializers as s
from profiles.api.permissions import PaidPlanRequired
from profiles.export_formats import CONTENT_TYPES
from profiles.models import Export, Profile, RelatedProfile, TeamProfileAccess
from profiles.selectors import (
    access_lapsed_at,
    access_payload,
    accesses_unlocked,
    actor_of,
    creator_not_found,
    profile_can_view,
    profile_viewable_get,
    unlock_url,
)
from profiles.selectors import exports as export_reads
from profiles.selectors import report as reports
from profiles.selectors.posts import post_report, posts_cache_version, posts_filtered
from profiles.services import access as profile_access
from profiles.services import exports
from teams.api.mixins import TEAM_HEADER_PARAMETER, TeamScopedMixin

UNLOCK_ACTION = "influencer_unlock"


def _job_payload(request: Request, username: str) -> dict[str, Any] | None:
    """The running job of ``username`` when the actor may follow it (one query)."""
    job = (
        jobs_visible_to(actor=actor_of(request))
        .filter(username=username, status__in=AnalysisJob.ACTIVE_STATUSES)
        .first()
    )
    return AnalysisJobSerializer(job).data if job is not None else None


class CreatorSearchView(TeamScopedMixin, APIView):
    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        # The hottest read, answered from the cache alone when it can be (see fast_path).
        response = fast_path.cached_report_response(
            request, kwargs.get("username", ""), throttle_classes=self.throttle_classes
        )
        if response is not None:
            return response
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        tags=["creators"],
        summary="Search a creator: the full report when unlocked, a locked preview otherwise",
        parameters=[TEAM_HEADER_PARAMETER],
        responses={200: s.CreatorSearchSerializer, 404: OpenApiResponse(description="Unknown creator")},
    )
    def get(self, request: Request, username: str) -> Response:
        username = profile_services.username_clean(username)
        found = reports.creator_lookup(username=username)
        if found is None or not found["known"]:
            job = job_active_for(username=username)
            raise creator_not_found(username, job.pk if job else None)
        actor = actor_of(request)
        if not profile_can_view(actor=actor, profile_id=found["id"]):
            quote = credits_quote(account_id=actor.team_id, action_type=UNLOCK_ACTION)
            return Response(
                {
                    "username": username,
                    "locked": True,
                    "preview": found["preview"],
                    "unlock": {
                        "action_type": UNLOCK_ACTION,
                        "price_credits": quote.credits_per_unit,
                        "would_pay_with": quote.buckets[0] if quote.buckets else "credits",
                        "affordable": quote.allowed,
                        "url": unlock_url(username),
                    },
                }
            )
        if found["complete"]:
            report, job = reports.report_get(profile_id=found["id"]), None
        else:  # being analysed: what we have so far, uncached, with the job
            report = to_data(reports.report_build(profile=Profile.objects.get(pk=found["id"])))
            job = _job_payload(request, username)
        return Response(
            {
                "username": username,
                "locked": False,
                "access": access_payload(actor=actor, profile_id=found["id"]),
                "job": job,
                "report": report,
            }
        )


def _unlock_reference(request: Request, username: str) -> str:
    return f"profile:{profile_services.username_clean(username)}"


def _unlock_lapse(request: Request, username: str) -> str:
    """When the team's earlier access to the creator ended ('' if it never had one).

    Unlocking again after it lapsed buys 30 new days: the gate's renewal mark, so that the
    new unlock is charged and not replayed as the first one.
    """
    lapsed = access_lapsed_at(team_id=request.account_id, username=profile_services.username_clean(username))
    return lapsed.isoformat() if lapsed else ""


def _already_accessible(request: Request, username: str) -> bool:
    """The access rule: unlocking what the actor can already see (the team's unlock, staff) is free."""
    profile = Profile.objects.filter(username=profile_services.username_clean(username)).first()
    return profile is not None and profile_can_view(actor=actor_of(request), profile_id=profile.pk)


class CreatorUnlockView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["creators"],
        summary="Unlock a creator for 30 days (paid: influencer_unlock)",
        description="Grants access and charges together. 200 with the report when the creator is "
        "complete; 202 with the analysis job when it must be (re)analysed first. Unlocking a "
        "creator your team can already access costs nothing; a request while a job runs joins it.",
        parameters=[TEAM_HEADER_PARAMETER],
        request=None,
        responses={
            200: s.CreatorUnlockSerializer,
            202: s.CreatorUnlockSerializer,
            402: OpenApiResponse(description="Not enough credits: price, balance and missing in details"),
            404: OpenApiResponse(
                description="`creator_unavailable`: the account was found missing or private within "
                "UNLOCK_UNAVAILABLE_REMEMBER_SECONDS; nothing is charged or scraped"
            ),
        },
    )
    def post(self, request: Request, username: str) -> Response:
        # Before the credit gate: a remembered missing account is refused even at zero balance.
        unlocks.unlock_refuse_unavailable(username=profile_services.username_clean(username))
        return self._unlock(request, username)

    @requires_credits(UNLOCK_ACTION, reference=_unlock_reference, skip_if=_already_accessible, renewal=_unlock_lapse)
    def _unlock(self, request: Request, username: str) -> Response:
        username = profile_services.username_clean(username)
        profile = profile_services.profile_get_or_create(username=username)
        access, _ = profile_access.access_grant(team=request.team, profile=profile, granted_by=request.user)
        # The access just granted (or kept), from its row: the cached "no access" read by the
        # credit gate's check is only dropped when this transaction commits.
        granted = {"granted_at": access.granted_at, "expires_at": access.expires_at, "via": access.granted_via}
        found = reports.creator_lookup(username=username)
        body: dict[str, Any] = {"username": username, "locked": False}
        if found and found["known"] and found["complete"]:
            body.update(access=granted, job=None)
            body["report"] = reports.report_get(profile_id=profile.pk)
            return Response(body, status=status.HTTP_200_OK)
        job = unlocks.unlock_job_join(username=username, requested_by=request.user, team=request.team)
        body.update(access=granted, job=AnalysisJobSerializer(job).data)
        body["report"] = None
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ProfileReportView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["creators"],
        summary="A creator's report without its posts (unlocked creators only)",
        responses={200: s.ProfileReportSerializer},
    )
    def get(self, request: Request, username: str) -> Response:
        actor = actor_of(request)
        profile = profile_viewable_get(actor=actor, username=username)
        report = reports.report_get(profile_id=profile.pk)
        return Response(
            {
                "username": profile.username,
                "access": access_payload(actor=actor, profile_id=profile.pk),
                "report": reports.report_sections(report, posts=False),
            }
        )


class ProfilePostsView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["creators"],
        summary="A creator's posts with AI fields (paginated, filtered, ordered)",
        parameters=[
            s.PostFilterSerializer,
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="Up to 100."),
        ],
        responses={
            200: inline_serializer(
                "PaginatedReportPostList",
                fields={
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": s.ReportPostSerializer(many=True),
                },
            )
        },
    )
    def get(self, request: Request, username: str) -> Response:
        profile = profile_viewable_get(actor=actor_of(request), username=username)
        filters = s.PostFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        query = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
        version = posts_cache_version(profile_id=profile.pk)
        key = f"posts:{profile.pk}:{version}:{query}"
        cached = cache.get(key)
        if cached is not None:
            return Response(cached)
        posts = posts_filtered(profile=profile, **filters.validated_data)
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(posts, request, view=self)
        data = paginator.get_paginated_response(
            [to_data(post_report(post, profile.followers_count)) for post in page]
        ).data
        cache.set(key, data, timeout=settings.POSTS_CACHE_SECONDS)
        return Response(data)


class RelatedProfilesView(TeamScopedMixin, ListAPIView):
    serializer_class = s.RelatedProfileSerializer

    @extend_schema(
        tags=["creators"],
        summary="Creators similar to this one (from its latest scrape)",
        responses={
            200: s.RelatedProfileSerializer(many=True),
            403: OpenApiResponse(description="`creator_locked`: unlock the creator to see its related creators"),
            404: OpenApiResponse(description="`creator_not_found`: not analysed yet (request it with the unlock)"),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_team_queryset(self, team):
        if team is None:  # schema generation: no request team
            return RelatedProfile.objects.none()
        profile = profile_viewable_get(actor=actor_of(self.request), username=self.kwargs["username"])
        analysed = Profile.objects.filter(username=OuterRef("username"), last_scraped_at__isnull=False)
        return RelatedProfile.objects.filter(profile=profile).annotate(analysed=Exists(analysed))


class UnlockedProfilesView(TeamScopedMixin, ListAPIView):
    serializer_class = s.UnlockedProfileSerializer

    @extend_schema(tags=["creators"], summary="The creators your team has unlocked, with their expiry")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_team_queryset(self, team):
        if team is None:  # schema generation: no request team
            return TeamProfileAccess.objects.none()
        return accesses_unlocked(team_id=team.pk)


class ExportCreateView(TeamScopedMixin, APIView):
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, PaidPlanRequired]

    @extend_schema(
        tags=["exports"],
        summary="Export creators your team has unlocked (CSV, JSON or XLSX)",
        description="Up to EXPORT_SYNC_MAX_PROFILES creators: the file itself (200, attachment). "
        "More: 202 with the export; poll GET /exports/{id} and download when ready.",
        request=s.ExportRequestSerializer,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file (UTF-8, header row)"),
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="JSON file"),
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
                OpenApiTypes.BINARY, description="XLSX workbook"
            ),
            202: s.ExportSerializer,
            403: OpenApiResponse(description="`paid_plan_required`: exports are for teams on a paid plan"),
        },
    )
    def post(self, request: Request) -> HttpResponse | Response:
        data = s.ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = exports.export_request(
            actor=actor_of(request),
            usernames=data.validated_data["usernames"],
            fmt=data.validated_data["format"],
            include_posts=data.validated_data["include_posts"],
        )
        if isinstance(result, exports.ExportFile):
            response = HttpResponse(result.content, content_type=result.content_type)
            response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
            return response
        return Response(s.ExportSerializer(result).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(TeamScopedMixin, APIView):
    @extend_schema(tags=["exports"], summary="A queued export's status", responses={200: s.ExportSerializer})
    def get(self, request: Request, export_id: Any) -> Response:
        return Response(
            s.ExportSerializer(export_reads.export_get(team_id=request.account_id, export_id=export_id)).data
        )


class ExportDownloadView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["exports"],
        summary="Download a ready export",
        description="The file itself, or (exports kept in a private bucket) 302 to a signed URL "
        "valid for EXPORT_URL_SECONDS.",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file"),
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="JSON file"),
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
                OpenApiTypes.BINARY, description="XLSX workbook"
            ),
            302: OpenApiResponse(description="Redirect to a short-lived signed URL of the file"),
            404: OpenApiResponse(description="`export_not_found`: no such export, or not yours"),
            409: OpenApiResponse(description="`export_not_ready`: the export is pending or failed"),
        },
    )
    def get(self, request: Request, export_id: Any) -> HttpResponse:
        export = export_reads.export_get(team_id=request.account_id, export_id=export_id)
        if export.status != Export.Status.READY:
            raise Conflict(f"The export is {export.status}.", code="export_not_ready")
        signed = export_reads.export_signed_url(export=export)
        if signed is not None:
            response = HttpResponseRedirect(signed)
            response["Cache-Control"] = "private, no-store"
            return response
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=export_reads.export_filename(export.format, export.created_at),
            content_type=CONTENT_TYPES[export.format],
        )
