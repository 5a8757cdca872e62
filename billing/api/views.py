"""Billing API under /api/v1/billing/: the catalogue, Checkout, the portal, the subscription.

Every view acts for the request's active team (``teams``' ``TeamScopedMixin``: the
``X-Team-ID`` header, else the user's default team; another team is a 404); members may
read, owners and admins may start a payment or change the subscription. Without Stripe keys every endpoint answers 503
``billing_not_configured``. No request body names a price, an amount or a customer: they come
from our catalogue and the team.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.api import serializers as s
from billing.conf import billing_require_configured
from billing.errors import BillingForbidden
from billing.models import BillingAccount
from teams.api.mixins import TEAM_HEADER_PARAMETER, TeamScopedMixin
from teams.models import Team

TAG = ["billing"]
TEAM_HEADER = TEAM_HEADER_PARAMETER


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(s.ErrorSerializer, description=description)


READ_ERRORS = {
    404: _err("No such team for this user (`not_found`)."),
    503: _err("Billing is not configured (`billing_not_configured`) or Stripe did not answer."),
}
WRITE_ERRORS = {
    **READ_ERRORS,
    400: _err("Invalid input; field errors in `error.details`."),
    403: _err("Only the team's owner manages billing (`billing_owner_only`)."),
}


class BillingTeamMixin(TeamScopedMixin):
    """The active team (resolved once by ``TeamScopedMixin``); writes are the owner's (admins manage members)."""

    permission_classes = [permissions.IsAuthenticated]

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        billing_require_configured()

    def get_team(self, *, write: bool = False) -> Team:
        if write and self.membership.role not in selectors.WRITE_ROLES:
            raise BillingForbidden("Only the team's owner can manage billing (PRODUCT.md: owner = billing, ownership).")
        return self.team


def _subscription(account: BillingAccount | None) -> dict:
    if account is None:
        account = BillingAccount()
    pending = None
    if account.pending_plan_code:
        pending = {
            "plan": account.pending_plan_code,
            "interval": account.pending_interval,
            "effective_at": account.pending_effective_at,
        }
    return {
        "plan": account.plan_code,
        "interval": account.interval,
        "status": account.status,
        "current_period_start": account.current_period_start,
        "current_period_end": account.current_period_end,
        "cancel_at_period_end": account.cancel_at_period_end,
        "pending_change": pending,
    }


class PlansView(BillingTeamMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[TEAM_HEADER],
        responses={200: s.CatalogSerializer, **READ_ERRORS},
        summary="Plans and top-up packages with the prices this team would pay",
    )
    def get(self, request: Request) -> Response:
        return Response(s.CatalogSerializer(selectors.catalog_for_team(team=self.get_team())).data)


class SubscriptionCheckoutView(BillingTeamMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[TEAM_HEADER],
        request=s.SubscriptionCheckoutInputSerializer,
        responses={
            201: s.CheckoutSerializer,
            409: _err("The team already has a subscription (`subscription_exists`)."),
            **WRITE_ERRORS,
        },
        summary="Start a Checkout Session for a plan (owner)",
    )
    def post(self, request: Request) -> Response:
        team = self.get_team(write=True)
        data = s.SubscriptionCheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.checkout_subscription_start(
            team=team, plan_code=data.validated_data["plan"], interval=data.validated_data["interval"]
        )
        return Response(s.CheckoutSerializer(session).data, status=status.HTTP_201_CREATED)


class TopUpCheckoutView(BillingTeamMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[TEAM_HEADER],
        request=s.TopUpCheckoutInputSerializer,
        responses={201: s.CheckoutSerializer, **WRITE_ERRORS},
        summary="Start a Checkout Session for a top-up package at the team's price (owner)",
    )
    def post(self, request: Request) -> Response:
        team = self.get_team(write=True)
        data = s.TopUpCheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.checkout_topup_start(team=team, package_code=data.validated_data["package"])
        return Response(s.CheckoutSerializer(session).data, status=status.HTTP_201_CREATED)


class PortalView(BillingTeamMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[TEAM_HEADER],
        request=None,
        responses={201: s.PortalSerializer, **WRITE_ERRORS},
        summary="Open Stripe's customer portal for the team (owner)",
    )
    def post(self, request: Request) -> Response:
        session = services.portal_session_start(team=self.get_team(write=True))
        return Response(s.PortalSerializer(session).data, status=status.HTTP_201_CREATED)


class SubscriptionView(BillingTeamMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[TEAM_HEADER],
        responses={200: s.SubscriptionSerializer, **READ_ERRORS},
        summary="The team's subscription: plan, interval, status, period, cancellation, pending change",
    )
    def get(self, request: Request) -> Response:
        account = selectors.billing_account_get(team=self.get_team())
        return Response(s.SubscriptionSerializer(_subscription(account)).data)


class SubscriptionChangeView(BillingTeamMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[TEAM_HEADER],
        request=s.SubscriptionChangeInputSerializer,
        responses={
            200: s.SubscriptionSerializer,
            409: _err(
                "No active subscription (`no_subscription`), or the plan has fewer seats than the team's "
                "members and pending invitations (`seats_exceed_plan`; `details.to_free` says how many to free)."
            ),
            **WRITE_ERRORS,
        },
        summary="Upgrade now (prorated); downgrade or change interval at the end of the period",
    )
    def post(self, request: Request) -> Response:
        team = self.get_team(write=True)
        data = s.SubscriptionChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.subscription_change(
            team=team, plan_code=data.validated_data["plan"], interval=data.validated_data["interval"]
        )
        return Response(s.SubscriptionSerializer(_subscription(account)).data)


class SubscriptionCancelView(BillingTeamMixin, APIView):
    resume = False

    @extend_schema(
        tags=TAG,
        parameters=[TEAM_HEADER],
        request=None,
        responses={
            200: s.SubscriptionSerializer,
            409: _err("No active subscription (`no_subscription`)."),
            **WRITE_ERRORS,
        },
        summary="Cancel at the end of the period, or resume a subscription set to cancel",
    )
    def post(self, request: Request) -> Response:
        account = services.subscription_cancel(team=self.get_team(write=True), resume=self.resume)
        return Response(s.SubscriptionSerializer(_subscription(account)).data)


class InvoicesView(BillingTeamMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[TEAM_HEADER],
        responses={200: s.InvoiceSerializer(many=True), **READ_ERRORS},
        summary="The team's invoices (latest 20) with hosted and PDF links",
    )
    def get(self, request: Request) -> Response:
        return Response(s.InvoiceSerializer(services.invoices_list(team=self.get_team()), many=True).data)
