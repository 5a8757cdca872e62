"""Tenancy, enforced once: every API view that acts for an account resolves its team here.

``TeamScopedMixin.perform_authentication`` (right after authentication, before permissions)
resolves the active team from the ``X-Team-ID`` header, else the user's default team, and
sets ``self.team``, ``self.membership`` and, on the request, ``team`` and ``account_id``
(what the credit gate charges). A team the user does not belong to is a 404. Querysets are
scoped by ``team_queryset``; a subclass that overrides ``get_queryset`` is refused at class
creation (define ``get_team_queryset(team)`` instead), and a test walks every URL pattern
to prove each account view goes through this mixin.
"""

from __future__ import annotations

from typing import Any

from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from config.errors import NotFound
from teams.models import Membership, Team
from teams.selectors import TEAM_HEADER, membership_active_get
from teams.services import team_personal_ensure

TEAM_HEADER_PARAMETER = OpenApiParameter(
    TEAM_HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The team to act for (a team you belong to); your default team when absent.",
)


def request_team_resolve(request: Request) -> Membership:
    """The membership a request acts through (see the module docstring)."""
    requested = request.headers.get(TEAM_HEADER)
    try:
        membership = membership_active_get(user=request.user, requested_team_id=requested)
    except NotFound:
        if requested:
            raise
        # No team at all (an account made outside sign-up, e.g. by staff tools): make the personal one.
        team_personal_ensure(user=request.user)
        membership = membership_active_get(user=request.user, requested_team_id=None)
    request.team = membership.team
    request.membership = membership
    request.account_id = membership.team_id
    return membership


class TeamScopedMixin:
    """Resolve the active team for every authenticated request of the view."""

    team: Team
    membership: Membership

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__ and not getattr(cls, "team_scoped_queryset_ok", False):
            raise TypeError(
                f"{cls.__name__} overrides get_queryset: define get_team_queryset(team) so the "
                "queryset stays scoped to the active team."
            )

    def perform_authentication(self, request: Request) -> None:
        # Before permissions and throttles: they may depend on the team (its plan).
        super().perform_authentication(request)
        if request.user and request.user.is_authenticated:
            membership = request_team_resolve(request)
            self.team, self.membership = membership.team, membership

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, (TEAM_HEADER,))  # the answer depends on the team acted for
        return response

    def get_team_queryset(self, team: Team):  # pragma: no cover - overridden by list views
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request team
            return self.get_team_queryset(None)
        return self.get_team_queryset(self.team)
