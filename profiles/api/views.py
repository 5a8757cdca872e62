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
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts import auth_cache
from analysis.api.serializers import AnalysisJobSerializer
from analysis.selectors import job_active_for, job_visible
from config.api.throttling import is_window_throttle
from config.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from credits.gate import requires_credits
from credits.selectors import credits_quote
from profiles import access as profile_access
from profiles import exports
from profiles import refunds as unlocks
from profiles import report as reports
from profiles import services as profile_services
from profiles.api import serializers as s
from profiles.api.permissions import PaidPlanRequired
from profiles.models import Export, Profile, RelatedProfile, UserProfileAccess

UNLOCK_ACTION = "influencer_unlock"


def _unlock_url(username: str) -> str:
    return f"/api/v1/search/creator/{username}/unlock"


def _not_found(username: str, job: Any = None) -> NotFound:
    details: dict[str, Any] = {"username": username, "unlock_url": _unlock_url(username)}
    if job is not None:
        details["job_id"] = str(job.pk)
    return NotFound(
        f"@{username} has not been analysed yet. Request it with POST {_unlock_url(username)}.",
        code="creator_not_found",
        details=details,
    )


_STAFF_ACCESS = {"granted_at": None, "expires_at": None, "via": "staff"}


def _access_payload(user: Any, profile_id: Any) -> dict[str, Any] | None:
    access = profile_access.access_cached(user_id=user.pk, profile_id=profile_id)
    if access is None:
        return dict(_STAFF_ACCESS) if user.is_staff else None
    return access


def _job_payload(username: str, user: Any) -> dict[str, Any] | None:
    job = job_active_for(username=username)
    if job is None or not job_visible(job=job, user=user):
        return None
    return AnalysisJobSerializer(job).data


def _viewable_profile(request: Request, username: str) -> Profile:
    """The profile behind ``username`` if the user may see its report (404 unknown, 403 locked)."""
    username = profile_services.username_clean(username)
    found = reports.creator_lookup(username=username)
    if found is None or not found["known"]:
        raise _not_found(username)
    if not (request.user.is_staff or profile_access.access_expiry(user=request.user, profile_id=found["id"])):
        raise PermissionDenied(
            f"Unlock @{username} to see its report.",
            code="creator_locked",
            details={"unlock_url": _unlock_url(username)},
        )
    return Profile.objects.get(pk=found["id"])


# --- The cached report's fast path -------------------------------------------------------------
# GET /search/creator/{username} for an unlocked, complete creator whose report is cached is
# the API's hottest read. ``_cached_report_response`` answers it from the cache alone, with
# no DRF request, no user row and no ORM: the JWT checked from the token plus the cached auth
# record, the API's throttles fed from the same cache read, the access payload and the
# report's pre-rendered JSON. Whatever it cannot answer from the cache (no token or a bad
# one, a suspended user or a changed password, throttled, unknown, incomplete or locked
# creator, anything missing from the cache or Redis down) it declines, and the DRF view
# answers as before, errors and all. The body is byte for byte the DRF view's.
_FAST_ACCEPT = frozenset({"", "*/*", "application/json"})
_ALLOW = "GET, HEAD, OPTIONS"
_profile_ids: dict[str, str] = {}  # username -> profile id seen in the cached lookup (a hint)
_PROFILE_IDS_MAX = 10_000


class _ThrottleUser:
    """What DRF's throttles read of ``request.user``."""

    is_authenticated = True

    def __init__(self, pk: str) -> None:
        self.pk = self.id = pk


class _ThrottleRequest:
    def __init__(self, user: _ThrottleUser, meta: dict[str, Any]) -> None:
        self.user, self.META = user, meta


def _fast_throttles(request: Any, user_id: str) -> list[tuple[SimpleRateThrottle, str]] | None:
    """The view's throttles with their current window's counter keys (None: a throttle the
    fast path cannot run, e.g. one scoped by view)."""
    shim = _ThrottleRequest(_ThrottleUser(user_id), request.META)
    found = []
    for throttle_class in CreatorSearchView.throttle_classes:
        throttle = throttle_class()
        if not is_window_throttle(throttle) or throttle.cache is not cache:
            return None
        if throttle.rate is None:
            continue
        key = throttle.get_cache_key(shim, None)
        if key is not None:
            found.append((throttle, throttle.window_key(key, throttle.timer())))
    return found


def _throttled(throttles: list[tuple[SimpleRateThrottle, str]], cached: dict[str, Any]) -> bool:
    """The throttles' own limit check on counters already read; nothing is written."""
    return any(throttle.over_limit(cached.get(key)) for throttle, key in throttles)


def _cached_report_response(request: Any, username: str) -> HttpResponse | None:
    """The cached report for an unlocked, complete creator, or None for the DRF view to answer."""
    meta = request.META
    if request.method != "GET" or meta.get("QUERY_STRING") or meta.get("HTTP_ACCEPT", "") not in _FAST_ACCEPT:
        return None
    token = auth_cache.jwt_token(request)
    user_id = token and auth_cache.token_user_id(token)
    if not user_id:
        return None
    try:
        username = profile_services.username_clean(username)
    except ValidationFailed:
        return None
    throttles = _fast_throttles(request, user_id)
    if throttles is None:
        return None
    # One read for everything: the access and report keys need the profile's id, which this
    # process remembers from earlier requests (a hint only: checked against the lookup).
    lookup_key, auth_key = reports.lookup_key(username), auth_cache.auth_record_key(user_id)
    keys = [lookup_key, auth_key, *(key for _, key in throttles)]
    hint = _profile_ids.get(username)
    if hint is not None:
        keys += [profile_access.access_key(user_id, hint), reports.report_key(hint)]
    cached = cache.get_many(keys)
    found = cached.get(lookup_key)
    if not (found and found["known"] and found["complete"]):
        return None
    record = cached[auth_key] if auth_key in cached else auth_cache.auth_record_load(user_id)
    if not auth_cache.token_accepted(token, record) or _throttled(throttles, cached):
        return None  # the DRF view refuses it (401, 429) in the API's error format
    profile_id = found["id"]
    access_key, report_key = profile_access.access_key(user_id, profile_id), reports.report_key(profile_id)
    if hint != profile_id:
        if len(_profile_ids) >= _PROFILE_IDS_MAX:
            _profile_ids.clear()
        _profile_ids[username] = profile_id
        cached = cache.get_many([access_key, report_key])
    report = cached.get(report_key)
    if report is None:
        return None
    access = profile_access.access_cached(user_id=user_id, profile_id=profile_id, cached=cached.get(access_key))
    if access is None:
        if not record["staff"]:
            return None  # locked: the preview and its price
        access = _STAFF_ACCESS
    for throttle, key in throttles:
        throttle.count_request(key)
    # The DRF view's body: its dict rendered by the same renderer, the report spliced in last.
    head = reports.render_json({"username": username, "locked": False, "access": access, "job": None})
    body = b"".join((head[:-1], b',"report":', report, b"}"))
    response = HttpResponse(body, content_type="application/json")
    response["Allow"] = _ALLOW
    patch_vary_headers(response, ("Accept",))
    return response


class CreatorSearchView(APIView):
    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        response = _cached_report_response(request, kwargs.get("username", ""))
        if response is not None:
            return response
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        tags=["creators"],
        summary="Search a creator: the full report when unlocked, a locked preview otherwise",
        responses={200: s.CreatorSearchSerializer, 404: OpenApiResponse(description="Unknown creator")},
    )
    def get(self, request: Request, username: str) -> Response:
        username = profile_services.username_clean(username)
        found = reports.creator_lookup(username=username)
        if found is None or not found["known"]:
            raise _not_found(username, job_active_for(username=username))
        user = request.user
        if not (user.is_staff or profile_access.access_expiry(user=user, profile_id=found["id"])):
            quote = credits_quote(user=user, action_type=UNLOCK_ACTION)
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
                        "url": _unlock_url(username),
                    },
                }
            )
        if found["complete"]:
            report, job = reports.report_get(profile_id=found["id"]), None
        else:  # being analysed: what we have so far, uncached, with the job
            report = reports.report_build(profile=Profile.objects.get(pk=found["id"]))
            job = _job_payload(username, user)
        return Response(
            {
                "username": username,
                "locked": False,
                "access": _access_payload(user, found["id"]),
                "job": job,
                "report": report,
            }
        )


def _unlock_reference(request: Request, username: str) -> str:
    return f"profile:{profile_services.username_clean(username)}"


def _already_accessible(request: Request, username: str) -> bool:
    if request.user.is_staff:
        return True
    profile = Profile.objects.filter(username=profile_services.username_clean(username)).first()
    return profile is not None and profile_access.access_active(user=request.user, profile=profile) is not None


class CreatorUnlockView(APIView):
    @extend_schema(
        tags=["creators"],
        summary="Unlock a creator for 30 days (paid: influencer_unlock)",
        description="Grants access and charges together. 200 with the report when the creator is "
        "complete; 202 with the analysis job when it must be (re)analysed first. Unlocking a "
        "creator you can already access costs nothing; a request while a job runs joins it.",
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

    @requires_credits(UNLOCK_ACTION, reference=_unlock_reference, skip_if=_already_accessible)
    def _unlock(self, request: Request, username: str) -> Response:
        username = profile_services.username_clean(username)
        profile = profile_services.profile_get_or_create(username=username)
        access, _ = profile_access.access_grant(user=request.user, profile=profile)
        # The access just granted (or kept), from its row: the cached "no access" read by the
        # credit gate's check is only dropped when this transaction commits.
        granted = {"granted_at": access.granted_at, "expires_at": access.expires_at, "via": access.granted_via}
        found = reports.creator_lookup(username=username)
        body: dict[str, Any] = {"username": username, "locked": False}
        if found and found["known"] and found["complete"]:
            body.update(access=granted, job=None)
            body["report"] = reports.report_get(profile_id=profile.pk)
            return Response(body, status=status.HTTP_200_OK)
        job = unlocks.unlock_job_join(username=username, requested_by=request.user)
        body.update(access=granted, job=AnalysisJobSerializer(job).data)
        body["report"] = None
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ProfileReportView(APIView):
    @extend_schema(
        tags=["creators"],
        summary="A creator's report without its posts (unlocked creators only)",
        responses={200: s.ProfileReportSerializer},
    )
    def get(self, request: Request, username: str) -> Response:
        profile = _viewable_profile(request, username)
        report = reports.report_get(profile_id=profile.pk)
        return Response(
            {
                "username": profile.username,
                "access": _access_payload(request.user, profile.pk),
                "report": {section: report[section] for section in reports.SECTIONS if section != "posts"},
            }
        )


class ProfilePostsView(APIView):
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
        profile = _viewable_profile(request, username)
        filters = s.PostFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        query = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
        version = reports.posts_cache_version(profile_id=profile.pk)
        key = f"posts:{profile.pk}:{version}:{query}"
        cached = cache.get(key)
        if cached is not None:
            return Response(cached)
        posts = reports.posts_filtered(profile=profile, **filters.validated_data)
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(posts, request, view=self)
        data = paginator.get_paginated_response(
            [reports.post_payload(post, profile.followers_count) for post in page]
        ).data
        cache.set(key, data, timeout=settings.POSTS_CACHE_SECONDS)
        return Response(data)


class RelatedProfilesView(ListAPIView):
    serializer_class = s.RelatedProfileSerializer

    @extend_schema(tags=["creators"], summary="Creators similar to this one (from its latest scrape)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request user
            return RelatedProfile.objects.none()
        profile = _viewable_profile(self.request, self.kwargs["username"])
        analysed = Profile.objects.filter(username=OuterRef("username"), last_scraped_at__isnull=False)
        return RelatedProfile.objects.filter(profile=profile).annotate(analysed=Exists(analysed))


class UnlockedProfilesView(ListAPIView):
    serializer_class = s.UnlockedProfileSerializer

    @extend_schema(tags=["creators"], summary="The creators you have unlocked, with their expiry")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request user
            return UserProfileAccess.objects.none()
        return profile_access.accesses_unlocked(user=self.request.user)


class ExportCreateView(APIView):
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, PaidPlanRequired]

    @extend_schema(
        tags=["exports"],
        summary="Export creators you have unlocked (CSV, JSON or XLSX)",
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
        },
    )
    def post(self, request: Request) -> HttpResponse | Response:
        data = s.ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = exports.export_request(
            user=request.user,
            usernames=data.validated_data["usernames"],
            fmt=data.validated_data["format"],
            include_posts=data.validated_data["include_posts"],
        )
        if isinstance(result, exports.ExportFile):
            response = HttpResponse(result.content, content_type=result.content_type)
            response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
            return response
        return Response(s.ExportSerializer(result).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    @extend_schema(tags=["exports"], summary="A queued export's status", responses={200: s.ExportSerializer})
    def get(self, request: Request, export_id: Any) -> Response:
        return Response(s.ExportSerializer(exports.export_get(user=request.user, export_id=export_id)).data)


class ExportDownloadView(APIView):
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
        export = exports.export_get(user=request.user, export_id=export_id)
        if export.status != Export.Status.READY:
            raise Conflict(f"The export is {export.status}.", code="export_not_ready")
        signed = exports.export_signed_url(export=export)
        if signed is not None:
            response = HttpResponseRedirect(signed)
            response["Cache-Control"] = "private, no-store"
            return response
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=exports.export_filename(export.format, export.created_at),
            content_type=exports.CONTENT_TYPES[export.format],
        )
