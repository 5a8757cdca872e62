"""Teams endpoints under ``/api/v1/teams/``: each validates input, calls one service or selector.

Every route with a ``team_id`` resolves the caller's membership first
(``TeamMemberMixin``, a ``TeamScopedMixin`` whose team is the URL's): a team the caller
does not belong to answers 404, the same as a team that does not exist, so ids leak
nothing. Listing one's teams, creating one and accepting an invitation act for the user.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ErrorSerializer
from billing.selectors import subscription_not_ended
from config.api.params import bool_query_param
from config.errors import ValidationFailed
from teams import selectors, services
from teams.api import serializers as s
from teams.api.mixins import TeamScopedMixin
from teams.models import Invitation, Membership, Team

TAGS = ["teams"]


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


E400 = _err("Invalid input; field errors in `error.details`.")
E401 = _err("Not authenticated.")
E403 = _err("Your role does not allow this (`role_not_allowed`, `own_role`, `only_owner_grants_admin`, ...).")
E404 = _err("No such team (or you are not a member), member or invitation.")
E409_SEATS = _err(
    "`seats_exhausted`: members + pending invitations fill the plan's seats "
    "(`details`: plan, seats, members, pending_invitations)."
)


class TeamMemberMixin(TeamScopedMixin):
    """Tenancy for the ``/teams/<team_id>/...`` routes: the team is the one the URL names.

    It resolves, like ``TeamScopedMixin`` does for the active team, the caller's membership
    and sets ``self.team``, ``self.membership`` and ``request.team`` / ``request.account_id``
    before permissions run; a team the caller does not belong to is a 404 (the
    ``X-Team-ID`` header plays no part here).
    """

    permission_classes = [IsAuthenticated]

    def perform_authentication(self, request: Request) -> None:
        # APIView's authentication only: the team comes from the path, not the header.
        super(TeamScopedMixin, self).perform_authentication(request)
        if request.user and request.user.is_authenticated:
            membership = selectors.membership_get(team_id=self.kwargs["team_id"], user=request.user)
            request.team, request.membership, request.account_id = membership.team, membership, membership.team_id
            self.team, self.membership = membership.team, membership

    def get_membership(self) -> Membership:
        return self.membership


class TeamListCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="teams_list",
        summary="The teams you belong to, with your role, the plan and its seats",
        responses={200: s.TeamListItemSerializer(many=True), 401: E401},
    )
    def get(self, request: Request) -> Response:
        return Response(s.TeamListItemSerializer(selectors.team_list_for_user(user=request.user), many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="teams_create",
        summary="Create a team (you become its owner)",
        request=s.TeamNameInputSerializer,
        responses={201: s.TeamDetailSerializer, 400: E400, 401: E401},
    )
    def post(self, request: Request) -> Response:
        data = s.TeamNameInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create(user=request.user, name=data.validated_data["name"])
        membership = selectors.membership_get(team_id=team.pk, user=request.user)
        return Response(
            s.TeamDetailSerializer(selectors.team_detail(membership=membership)).data, status=status.HTTP_201_CREATED
        )


class TeamDetailView(TeamMemberMixin, APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="teams_retrieve",
        summary="A team: your role, seats (and whether the team is over its plan's seats), balance",
        responses={200: s.TeamDetailSerializer, 401: E401, 404: E404},
    )
    def get(self, request: Request, team_id: Any) -> Response:
        return Response(s.TeamDetailSerializer(selectors.team_detail(membership=self.get_membership())).data)

    @extend_schema(
        tags=TAGS,
        operation_id="teams_rename",
        summary="Rename the team (owner or admin)",
        request=s.TeamNameInputSerializer,
        responses={200: s.TeamDetailSerializer, 400: E400, 401: E401, 403: E403, 404: E404},
    )
    def patch(self, request: Request, team_id: Any) -> Response:
        membership = self.get_membership()
        data = s.TeamNameInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.team_rename(team=membership.team, actor=request.user, name=data.validated_data["name"])
        membership.team.refresh_from_db()
        return Response(s.TeamDetailSerializer(selectors.team_detail(membership=membership)).data)

    @extend_schema(
        tags=TAGS,
        operation_id="teams_destroy",
        summary="Delete the team (owner only)",
        parameters=[
            OpenApiParameter(
                "forfeit_credits",
                bool,
                description="Give up the credits the team still holds (else 409 `credits_remaining`).",
            )
        ],
        responses={
            204: None,
            400: E400,
            401: E401,
            403: E403,
            404: E404,
            409: _err(
                "`paid_subscription_active` (cancel the paid plan first), `personal_team` (a personal team stays), "
                "`credits_remaining` (the balance is in details; repeat with forfeit_credits=true to give it up)."
            ),
        },
    )
    def delete(self, request: Request, team_id: Any) -> Response:
        forfeit = bool_query_param(request.query_params, "forfeit_credits")
        team = self.get_membership().team
        services.team_delete(
            team=team,
            actor=request.user,
            forfeit_credits=forfeit,
            subscription_status=subscription_not_ended(team=team),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(TeamMemberMixin, APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="teams_members_list",
        summary="The team's members and their roles",
        responses={200: s.MemberSerializer(many=True), 401: E401, 404: E404},
    )
    def get(self, request: Request, team_id: Any) -> Response:
        return Response(s.MemberSerializer(selectors.member_list(team=self.get_membership().team), many=True).data)


class MemberDetailView(TeamMemberMixin, APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="teams_members_role_change",
        summary="Change a member's role (owner: any role below owner; admin: roles below admin)",
        request=s.RoleInputSerializer,
        responses={200: s.MemberSerializer, 400: E400, 401: E401, 403: E403, 404: E404},
    )
    def patch(self, request: Request, team_id: Any, user_id: Any) -> Response:
        team = self.get_membership().team
        selectors.membership_get_by_user_id(team=team, user_id=user_id)  # 404 before the body is read
        data = s.RoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_role_change(
            team=team, actor=request.user, user_id=user_id, role=data.validated_data["role"]
        )
        return Response(s.MemberSerializer(membership).data)

    @extend_schema(
        tags=TAGS,
        operation_id="teams_members_remove",
        summary="Remove a member (owner or admin, for members ranked below them)",
        responses={204: None, 401: E401, 403: E403, 404: E404, 409: _err("`use_leave`: to remove yourself, leave.")},
    )
    def delete(self, request: Request, team_id: Any, user_id: Any) -> Response:
        services.membership_remove(team=self.get_membership().team, actor=request.user, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberLeaveView(TeamMemberMixin, APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="teams_members_leave",
        summary="Leave the team",
        request=None,
        responses={
            204: None,
            401: E401,
            404: E404,
            409: _err("`owner_cannot_leave`: transfer ownership to another member first."),
        },
    )
    def post(self, request: Request, team_id: Any) -> Response:
        services.membership_leave(team=self.get_membership().team, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OwnershipTransferView(TeamMemberMixin, APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="teams_ownership_transfer",
        summary="Hand ownership to another member (owner only); you become an admin",
        request=s.OwnershipTransferInputSerializer,
        responses={200: s.MemberSerializer(many=True), 400: E400, 401: E401, 403: E403, 404: E404},
    )
    def post(self, request: Request, team_id: Any) -> Response:
        team = self.get_membership().team
        data = s.OwnershipTransferInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.ownership_transfer(team=team, actor=request.user, user_id=data.validated_data["user_id"])
        return Response(s.MemberSerializer(selectors.member_list(team=team), many=True).data)


class InvitationListCreateView(TeamMemberMixin, generics.GenericAPIView):
    serializer_class = s.InvitationSerializer

    def get_team_queryset(self, team: Team | None):
        if team is None:  # schema generation has no team
            return Invitation.objects.none()
        selectors.membership_require_role(self.membership, Membership.Role.ADMIN, "see invitations")
        status_filter = self.request.query_params.get("status") or None
        if status_filter is not None and status_filter not in Invitation.Status.values:
            raise ValidationFailed(
                "Unknown invitation status.", details={"status": [f"One of {', '.join(Invitation.Status.values)}."]}
            )
        return selectors.invitation_list(team=team, status=status_filter)

    @extend_schema(
        tags=TAGS,
        operation_id="teams_invitations_list",
        summary="The team's invitations (owner or admin), newest first",
        parameters=[
            OpenApiParameter("status", str, enum=[c for c, _ in Invitation.Status.choices], description="Filter")
        ],
        responses={200: s.InvitationSerializer(many=True), 401: E401, 403: E403, 404: E404},
    )
    def get(self, request: Request, team_id: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.InvitationSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="teams_invitations_create",
        summary="Invite someone by email (owner or admin; only the owner invites admins)",
        description="Emails an accept link built from FRONTEND_URL; the response carries the same `accept_url`.",
        request=s.InvitationCreateInputSerializer,
        responses={
            201: s.InvitationSerializer,
            400: E400,
            401: E401,
            403: E403,
            404: E404,
            409: _err(
                "`seats_exhausted` (details: plan, seats, members, pending_invitations), "
                "`already_member`, `already_invited`."
            ),
        },
    )
    def post(self, request: Request, team_id: Any) -> Response:
        team = self.get_membership().team
        data = s.InvitationCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(team=team, actor=request.user, **data.validated_data)
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationActionView(TeamMemberMixin, APIView):
    """A POST on one of the team's invitations that calls ``service``."""

    service: Any = None

    def post(self, request: Request, team_id: Any, invitation_id: Any) -> Response:
        invitation = selectors.invitation_get(team=self.get_membership().team, invitation_id=invitation_id)
        invitation = type(self).service(invitation=invitation, actor=request.user)
        return Response(s.InvitationSerializer(invitation).data)


def _invitation_action_schema(operation_id: str, summary: str, conflict: str):
    return extend_schema_view(
        post=extend_schema(
            tags=TAGS,
            operation_id=operation_id,
            summary=summary,
            request=None,
            responses={200: s.InvitationSerializer, 401: E401, 403: E403, 404: E404, 409: _err(conflict)},
        )
    )


@_invitation_action_schema(
    "teams_invitations_resend",
    "Email a pending invitation again; it is valid 7 days from now",
    "`invitation_not_pending`; `seats_exhausted` when reviving an invitation past its expiry.",
)
class InvitationResendView(InvitationActionView):
    service = services.invitation_resend


@_invitation_action_schema(
    "teams_invitations_revoke",
    "Revoke a pending invitation (its seat is free at once; revoking twice is a no-op)",
    "`invitation_not_pending`: it was accepted or has expired.",
)
class InvitationRevokeView(InvitationActionView):
    service = services.invitation_revoke


class InvitationAcceptView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="teams_invitations_accept",
        summary="Accept an invitation as the logged-in user (same email, any case); twice is a no-op",
        request=s.InvitationAcceptInputSerializer,
        responses={
            200: s.InvitationAcceptedSerializer,
            400: _err(
                "`invitation_invalid` (unknown token), `invitation_expired`, `invitation_revoked`, `invitation_used`."
            ),
            401: E401,
            403: _err("`invitation_email_mismatch`: log in with the invited email address."),
            409: E409_SEATS,
        },
    )
    def post(self, request: Request) -> Response:
        data = s.InvitationAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.invitation_accept(token=data.validated_data["token"], user=request.user)
        return Response(
            s.InvitationAcceptedSerializer(
                {"team": membership.team, "role": membership.role, "joined_at": membership.joined_at}
            ).data
        )


class TeamUsageView(TeamMemberMixin, APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="teams_usage",
        summary="What each member used in a billing cycle, per action, and the quotas left",
        parameters=[
            OpenApiParameter(
                "cycle", str, description="YYYY-MM: the cycle starting that month (default: the current one)"
            )
        ],
        responses={200: s.TeamUsageSerializer, 400: E400, 401: E401, 404: E404},
    )
    def get(self, request: Request, team_id: Any) -> Response:
        usage = selectors.team_usage(team=self.get_membership().team, cycle=request.query_params.get("cycle"))
        return Response(s.TeamUsageSerializer(usage).data)
