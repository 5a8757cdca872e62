"""The discovery API: browse, advanced search, categories, dashboard, pricing, unlocks, emails.

Views validate input, call one selector or service and return its data; the paid ones go
through the credit gate (``credits.gate.requires_credits``): a browse page is
``discovery_pagination`` (5 free pages a month), an advanced search ``advanced_search`` (10
free a month; its further pages are browse pages), an email reveal ``email_unlock`` (the
plan's email quota first). Serving the same query and page again within
``DISCOVERY_REPEAT_FREE_HOURS`` is free: the gate's ``skip_if`` finds the earlier charge
(team, normalised query, page) in the ledger, under the wallet lock. The unlock endpoints are
the creator API's own views (one implementation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import NotFound
from credits.gate import requires_credits
from credits.selectors import pricing_rule_get, spend_recent_exists
from discovery import selectors
from discovery.api import serializers as s
from discovery.api.account import active_account_id
from profiles import services as profile_services
from profiles.api.serializers import CreatorUnlockSerializer
from profiles.api.views import CreatorUnlockView, UnlockedProfilesView
from profiles.selectors.search_fields import email_masked
from teams.api.mixins import TeamScopedMixin

PAGE_ACTION = "discovery_pagination"
SEARCH_ACTION = "advanced_search"
EMAIL_ACTION = "email_unlock"
_LIST_PARAMS = ("categories", "languages", "hashtags")
_402 = OpenApiResponse(description="Not enough credits: action_type, price, balance and missing in details")
_400 = OpenApiResponse(description="Invalid input: details name the field")


@dataclass(frozen=True)
class PageRequest:
    """One page asked for: the validated query, its identity and the action it is charged as."""

    kind: str  # "browse" | "advanced" | "lookalikes"
    filters: dict[str, Any]
    sort: str
    page_size: int
    cursor: selectors.Cursor | None
    query: str
    lookalike_of: Any = None  # the Profile whose lookalikes are asked for

    @property
    def page(self) -> int:
        return self.cursor.page if self.cursor else 1

    @property
    def action(self) -> str:
        return SEARCH_ACTION if self.kind in ("advanced", "lookalikes") and self.cursor is None else PAGE_ACTION

    @property
    def charge_prefix(self) -> str:
        return f"discovery:{self.kind}:{self.query}:p{self.page}@"


def page_request(
    *, kind: str, filters: dict[str, Any], control: dict[str, Any], lookalike_of: Any = None
) -> PageRequest:
    sort = control.get("sort") or ("relevance" if filters.get("keywords") else "followers")
    page_size = control.get("page_size") or settings.DISCOVERY_PAGE_SIZE
    if lookalike_of is not None:
        kind, sort = "lookalikes", "followers"  # ranked by similarity; one page
    identity = {**filters, "_kind": kind, "_like": lookalike_of.username if lookalike_of else None}
    query = selectors.query_hash(filters=identity, sort=sort, page_size=page_size)
    token = control.get("cursor")
    cursor = selectors.cursor_decode(token, query=query, sort=selectors.SORTS[sort]) if token else None
    return PageRequest(
        kind=kind,
        filters=filters,
        sort=sort,
        page_size=page_size,
        cursor=cursor,
        query=query,
        lookalike_of=lookalike_of,
    )


def lookalike_source(username: str) -> Any:
    """The analysed creator whose lookalikes are asked for, with an embedding (404 otherwise)."""
    from analysis.selectors import profile_embedding_current

    username = profile_services.username_clean(username)
    profile = selectors.discoverable_profiles().filter(username=username).first()
    if profile is None:
        raise NotFound(f"@{username} is not an analysed creator.", code="creator_not_found")
    if profile_embedding_current(profile=profile) is None:
        raise NotFound(
            f"@{username} has no embedding yet: lookalikes need its analysis by the embeddings engine.",
            code="lookalikes_unavailable",
            details={"username": username},
        )
    return profile


def _reference(request: Request, *, page: PageRequest) -> str:
    return f"{page.charge_prefix}{timezone.now():%Y%m%dT%H%M%S.%f}"


def _served_recently(request: Request, *, page: PageRequest) -> bool:
    since = timezone.now() - timedelta(hours=settings.DISCOVERY_REPEAT_FREE_HOURS)
    return spend_recent_exists(
        account_id=active_account_id(request), action_type=page.action, reference_prefix=page.charge_prefix, since=since
    )


def _serve(request: Request, page: PageRequest) -> Response:
    if page.lookalike_of is not None:
        result = selectors.lookalikes_page(
            profile=page.lookalike_of,
            filters=page.filters,
            page_size=page.page_size,
            account_id=active_account_id(request),
            unlock_price=pricing_rule_get(action_type="influencer_unlock").credits_per_unit,
        )
        return Response(_page_body(result))
    result = selectors.search_page(
        filters=page.filters,
        sort_name=page.sort,
        page_size=page.page_size,
        cursor=page.cursor,
        account_id=active_account_id(request),
        query=page.query,
        unlock_price=pricing_rule_get(action_type="influencer_unlock").credits_per_unit,
    )
    return Response(_page_body(result))


def _page_body(result: selectors.SearchPage) -> dict[str, Any]:
    note = None
    if not result.total_is_exact:
        note = f"More than {settings.DISCOVERY_TOTAL_EXACT_CAP:,} creators match: the total is an estimate."
    return {
        "results": result.results,
        "page": result.page,
        "page_size": result.page_size,
        "next_cursor": result.next_cursor,
        "total": result.total,
        "total_is_exact": result.total_is_exact,
        "total_note": note,
        "sort": result.sort,
        "notes": result.notes,
    }


def _query_params(params: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in params:
        if key in _LIST_PARAMS:
            data[key] = [v.strip() for value in params.getlist(key) for v in value.split(",") if v.strip()]
        else:
            data[key] = params.get(key)
    return data


class BrowseView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["discovery"],
        summary="Browse analysed creators (paid per page beyond 5 free a month: discovery_pagination)",
        description="Basic filters as query parameters (AND across filters, OR inside a list: "
        "`categories=Music,Art`), keyset pagination with `cursor` (`next_cursor` of the previous "
        "page), 20 per page (`page_size` up to 50). The same query and page again within 24 hours "
        "is free. Previews only: never the locked report.",
        parameters=[
            s.BrowseFiltersSerializer,
            OpenApiParameter("sort", str, enum=[n for n in selectors.SORTS if n != "relevance"]),
            OpenApiParameter("page_size", int),
            OpenApiParameter("cursor", str),
        ],
        responses={200: s.SearchPageSerializer, 400: _400, 402: _402},
    )
    def get(self, request: Request) -> Response:
        params = _query_params(request.query_params)
        control = s.BrowseQuerySerializer(data={k: v for k, v in params.items() if k in s.CONTROL_FIELDS})
        control.is_valid(raise_exception=True)
        filters = s.BrowseFiltersSerializer(
            data={k: v for k, v in params.items() if k not in s.CONTROL_FIELDS},
            context={"extra_fields": s.CONTROL_FIELDS},
        )
        filters.is_valid(raise_exception=True)
        page = page_request(kind="browse", filters=dict(filters.validated_data), control=control.validated_data)
        return self.serve(request, page=page)

    @requires_credits(PAGE_ACTION, reference=_reference, skip_if=_served_recently)
    def serve(self, request: Request, *, page: PageRequest) -> Response:
        return _serve(request, page)


class AdvancedSearchView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["discovery"],
        summary="Advanced search (advanced_search: 10 free a month; next pages are discovery_pagination)",
        description="Every filter in `filters` (keywords use PostgreSQL full-text search), `sort` "
        "(relevance with keywords), `page_size`, `cursor`. The first page is an advanced search; "
        "pages after it are charged as browse pages. The same query and page within 24 hours is free.",
        request=s.AdvancedSearchSerializer,
        responses={
            200: s.SearchPageSerializer,
            400: _400,
            402: _402,
            404: OpenApiResponse(
                description="`creator_not_found` / `lookalikes_unavailable`: `lookalike_of` names no analysed "
                "creator with an embedding (nothing is charged)"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = s.AdvancedSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        source = lookalike_source(data["lookalike_of"]) if data.get("lookalike_of") else None
        page = page_request(kind="advanced", filters=dict(data["filters"]), control=data, lookalike_of=source)
        if page.cursor is None:
            return self.first_page(request, page=page)
        return self.next_page(request, page=page)

    @requires_credits(SEARCH_ACTION, reference=_reference, skip_if=_served_recently)
    def first_page(self, request: Request, *, page: PageRequest) -> Response:
        return _serve(request, page)

    @requires_credits(PAGE_ACTION, reference=_reference, skip_if=_served_recently)
    def next_page(self, request: Request, *, page: PageRequest) -> Response:
        return _serve(request, page)


class LookalikesView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["discovery"],
        summary="Creators most similar to one (advanced_search: 10 free a month, then 15)",
        description="Ranked by cosine similarity of the creators' embeddings, among those matching the "
        "basic filters (query parameters, as browse); one page of `page_size` (up to 50), each preview "
        "with its `similarity`. 404 `lookalikes_unavailable` (no charge) when the creator has no embedding.",
        parameters=[s.BrowseFiltersSerializer, OpenApiParameter("page_size", int)],
        responses={200: s.SearchPageSerializer, 400: _400, 402: _402, 404: OpenApiResponse(description="Unknown")},
    )
    def get(self, request: Request, username: str) -> Response:
        params = _query_params(request.query_params)
        control = s.BrowseQuerySerializer(data={k: v for k, v in params.items() if k == "page_size"})
        control.is_valid(raise_exception=True)
        filters = s.BrowseFiltersSerializer(
            data={k: v for k, v in params.items() if k not in s.CONTROL_FIELDS},
            context={"extra_fields": s.CONTROL_FIELDS},
        )
        filters.is_valid(raise_exception=True)
        page = page_request(
            kind="lookalikes",
            filters=dict(filters.validated_data),
            control=control.validated_data,
            lookalike_of=lookalike_source(username),
        )
        return self.serve(request, page=page)

    @requires_credits(SEARCH_ACTION, reference=_reference, skip_if=_served_recently)
    def serve(self, request: Request, *, page: PageRequest) -> Response:
        return _serve(request, page)


class CategoriesView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["discovery"],
        summary="Every category with its number of analysed creators (cached)",
        responses={200: s.CategoryCountSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.category_counts())


class DashboardView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["discovery"],
        summary="The discovery dashboard of the active team",
        responses=s.DiscoveryDashboardSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.dashboard(account_id=active_account_id(request)))


class PricingView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["discovery"],
        summary="Prices, free uses and quotas of the discovery actions (what is left this cycle)",
        responses={200: s.ActionPriceSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.discovery_allowances(account_id=active_account_id(request)))


class UnlockProfileView(CreatorUnlockView):
    """``POST search/creator/{username}/unlock`` with the username in the body."""

    @extend_schema(
        tags=["discovery"],
        summary="Unlock a creator for 30 days (the creator API's unlock: influencer_unlock)",
        request=s.UnlockProfileInputSerializer,
        responses={200: CreatorUnlockSerializer, 202: CreatorUnlockSerializer, 402: _402},
    )
    def post(self, request: Request) -> Response:  # type: ignore[override]
        body = s.UnlockProfileInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return super().post(request, username=profile_services.username_clean(body.validated_data["username"]))


class UnlockedProfilesListView(UnlockedProfilesView):
    """The creator API's list of unlocked creators, under discovery."""

    @extend_schema(tags=["discovery"], summary="The creators the active team has unlocked, with their expiry")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _email_reference(request: Request, *, profile: Any) -> str:
    return f"email:{profile.pk}"


def _email_revealed(request: Request, *, profile: Any) -> bool:
    return profile_services.contact_email_revealed(team_id=active_account_id(request), profile=profile)


class EmailUnlockView(TeamScopedMixin, APIView):
    @extend_schema(
        tags=["discovery"],
        summary="Reveal a creator's contact email to the team (email_unlock: plan quota, then 1 credit)",
        description="404 `no_contact_email` (and no charge) when the creator has none; revealing "
        "again, or what a teammate revealed, costs nothing.",
        request=None,
        responses={
            200: s.EmailRevealSerializer,
            402: _402,
            404: OpenApiResponse(description="No such creator or no email"),
        },
    )
    def post(self, request: Request, username: str) -> Response:
        username = profile_services.username_clean(username)
        profile = selectors.discoverable_profiles().filter(username=username).first()
        if profile is None:
            raise NotFound(f"@{username} is not an analysed creator.", code="creator_not_found")
        if not profile.contact_email:
            raise NotFound(
                f"@{username} has no public contact email.", code="no_contact_email", details={"username": username}
            )
        return self.reveal(request, profile=profile)

    @requires_credits(EMAIL_ACTION, reference=_email_reference, skip_if=_email_revealed)
    def reveal(self, request: Request, *, profile: Any) -> Response:
        reveal = profile_services.contact_email_reveal(
            team_id=active_account_id(request), profile=profile, actor=request.user
        )
        return Response(
            {
                "username": profile.username,
                "email": profile.contact_email,
                "masked": email_masked(profile.contact_email),
                "source": profile.contact_email_source,
                "revealed_at": reveal.created_at,
            }
        )
