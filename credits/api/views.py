"""Credits API: the request's own wallet, prices, quotes and (staff) system stats.

Ownership is enforced once, in ``OwnWalletMixin`` (the teams tenancy mixin): every view reads
the wallet of the active team (``request.account_id``) and no route takes a team or wallet id.
No endpoint writes a balance: the only POSTs create an empty wallet (idempotent) or compute a quote.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.params import int_parameter, int_query_param
from credits import selectors
from credits.api import serializers as s
from credits.models import CreditTransaction, Wallet
from credits.services import wallet_get_or_create
from teams.api.mixins import TeamScopedMixin

TAG = ["credits"]


class OwnWalletMixin(TeamScopedMixin):
    """Every credits view works on the active team's wallet, never another."""

    permission_classes = [permissions.IsAuthenticated]

    def get_wallet(self) -> Wallet:
        wallet, _ = wallet_get_or_create(account_id=self.request.account_id)
        return wallet


def _allowance_dicts(wallet: Wallet) -> list[dict[str, Any]]:
    return [
        {
            "action_type": a.action_type,
            "free_allowance": a.free_allowance,
            "free_used": a.free_used,
            "free_left": a.free_left,
            "plan_quota": a.plan_quota,
            "plan_used": a.plan_used,
            "plan_left": a.plan_left,
        }
        for a in selectors.allowance_list(wallet=wallet)
    ]


def _summary(wallet: Wallet) -> dict[str, Any]:
    return {
        "balance": wallet.balance,
        "lifetime_earned": wallet.lifetime_earned,
        "lifetime_spent": wallet.lifetime_spent,
        "plan": s.PlanSerializer(wallet.plan).data,
        "cycle_start": wallet.cycle_start,
        "cycle_end": wallet.cycle_end,
        "allowances": _allowance_dicts(wallet),
    }


class BalanceView(OwnWalletMixin, APIView):
    @extend_schema(tags=TAG, responses=s.BalanceSerializer, summary="The credit balance (cached 5 minutes)")
    def get(self, request: Request) -> Response:
        self.get_wallet()
        return Response(s.BalanceSerializer(selectors.wallet_balance_cached(account_id=request.account_id)).data)


class WalletSummaryView(OwnWalletMixin, APIView):
    @extend_schema(tags=TAG, responses=s.WalletSummarySerializer, summary="Balance, lifetime totals, plan, cycle")
    def get(self, request: Request) -> Response:
        return Response(s.WalletSummarySerializer(_summary(self.get_wallet())).data)


class WalletCreateView(OwnWalletMixin, APIView):
    @extend_schema(
        tags=TAG,
        request=None,
        responses={200: s.WalletSummarySerializer, 201: s.WalletSummarySerializer},
        summary="Create the team's wallet (idempotent: 201 when created, 200 when it existed)",
    )
    def post(self, request: Request) -> Response:
        wallet, created = wallet_get_or_create(account_id=request.account_id)
        data = s.WalletSummarySerializer({**_summary(wallet), "created": created}).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DashboardView(OwnWalletMixin, APIView):
    @extend_schema(tags=TAG, responses=s.DashboardSerializer, summary="Wallet, recent movements, spending")
    def get(self, request: Request) -> Response:
        wallet = self.get_wallet()
        data = {
            "wallet": _summary(wallet),
            "recent_transactions": selectors.transaction_list(wallet=wallet)[:10],
            "spending": selectors.spending_by_month(wallet=wallet, months=6),
        }
        return Response(s.DashboardSerializer(data).data)


class TransactionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=CreditTransaction.Kind.choices)
    action_type = django_filters.CharFilter()
    date_from = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    date_to = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = CreditTransaction
        fields = ["kind", "action_type", "date_from", "date_to"]


class TransactionListView(OwnWalletMixin, generics.ListAPIView):
    serializer_class = s.TransactionSerializer
    filterset_class = TransactionFilter

    def get_team_queryset(self, team):
        if team is None:  # schema generation has no team
            return CreditTransaction.objects.none()
        return selectors.transaction_list(wallet=self.get_wallet())

    @extend_schema(tags=TAG, summary="The wallet's ledger (filters: kind, action_type, date_from, date_to)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class TransactionSearchView(OwnWalletMixin, generics.ListAPIView):
    serializer_class = s.TransactionSerializer
    filter_backends: list = []

    def get_team_queryset(self, team):
        if team is None:
            return CreditTransaction.objects.none()
        q = (self.request.query_params.get("q") or "").strip()[:100]
        return selectors.transaction_list(wallet=self.get_wallet(), q=q or None)

    @extend_schema(
        tags=TAG,
        parameters=[OpenApiParameter("q", str, description="Text in the reference, reason or action")],
        summary="Search the ledger",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class UsageMonthlyView(OwnWalletMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[int_parameter("months", default=6, minimum=1, maximum=24, description="Billing cycles to include")],
        responses=s.UsageMonthlySerializer,
        summary="Quota and free uses of this cycle, and usage per past cycle",
    )
    def get(self, request: Request) -> Response:
        wallet = self.get_wallet()
        months = int_query_param(request.query_params, "months", default=6, minimum=1, maximum=24)
        data = {
            "current_cycle": _allowance_dicts(wallet),
            "cycles": selectors.usage_by_cycle(wallet=wallet, cycles=months),
        }
        return Response(s.UsageMonthlySerializer(data).data)


class SpendingAnalyticsView(OwnWalletMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[
            int_parameter("months", default=6, minimum=1, maximum=24, description="Calendar months to include")
        ],
        responses=s.MonthlySpendingSerializer(many=True),
        summary="Credits spent per month and action",
    )
    def get(self, request: Request) -> Response:
        months = int_query_param(request.query_params, "months", default=6, minimum=1, maximum=24)
        rows = selectors.spending_by_month(wallet=self.get_wallet(), months=months, now=timezone.now())
        return Response(s.MonthlySpendingSerializer(rows, many=True).data)


class CanPerformView(OwnWalletMixin, APIView):
    @extend_schema(
        tags=TAG,
        parameters=[int_parameter("quantity", default=1, minimum=1, maximum=100_000, description="Units")],
        responses=s.QuoteSerializer,
        summary="Whether the user can perform an action now, its cost and which bucket would pay",
    )
    def get(self, request: Request, action_type: str) -> Response:
        self.get_wallet()
        quantity = int_query_param(request.query_params, "quantity", default=1, minimum=1, maximum=100_000)
        quote = selectors.credits_quote(account_id=request.account_id, action_type=action_type, quantity=quantity)
        return Response(s.QuoteSerializer(quote.as_dict()).data)


class PricingView(OwnWalletMixin, APIView):
    @extend_schema(tags=TAG, responses=s.PricingSerializer, summary="Action prices, plans and top-up packages")
    def get(self, request: Request) -> Response:
        plan = selectors.plan_for_account(account_id=request.account_id)
        data = {
            "actions": selectors.pricing_rule_list(),
            "plans": selectors.plan_list(),
            "packages": selectors.topup_package_list(),
            "your_plan": plan.code,
        }
        return Response(s.PricingSerializer(data, context={"plan": plan}).data)


class PricingDetailView(OwnWalletMixin, APIView):
    @extend_schema(
        tags=TAG, operation_id="credits_pricing_action_retrieve", responses=s.PricingRuleSerializer,
        summary="The price of one action",
    )  # fmt: skip
    def get(self, request: Request, action_type: str) -> Response:
        return Response(s.PricingRuleSerializer(selectors.pricing_rule_get(action_type=action_type)).data)


class PricingCalculateView(OwnWalletMixin, APIView):
    @extend_schema(
        tags=TAG,
        request=s.CalculateInputSerializer,
        responses={
            200: s.CalculateOutputSerializer,
            404: OpenApiResponse(description="`unknown_action`: an action type that is unknown or inactive"),
        },
        summary="Total credits for a list of actions, with this cycle's allowances applied (no charge)",
    )
    def post(self, request: Request) -> Response:
        data = s.CalculateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = [(i["action_type"], i["quantity"]) for i in data.validated_data["items"]]
        quotes = selectors.credits_quote_many(account_id=request.account_id, items=items)
        total = sum(q.price for q in quotes)
        balance = selectors.wallet_get(account_id=request.account_id)
        balance_value = balance.balance if balance else 0
        out = {
            "items": [q.as_dict() for q in quotes],
            "total": total,
            "balance": balance_value,
            "missing": max(0, total - balance_value),
            "affordable": total <= balance_value,
        }
        return Response(s.CalculateOutputSerializer(out).data)


class AllowancesView(OwnWalletMixin, APIView):
    @extend_schema(tags=TAG, responses=s.AllowanceSerializer(many=True), summary="This cycle's free uses and quotas")
    def get(self, request: Request) -> Response:
        return Response(s.AllowanceSerializer(_allowance_dicts(self.get_wallet()), many=True).data)


class SystemStatsView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(tags=TAG, responses={200: s.SystemStatsSerializer, 403: OpenApiTypes.OBJECT}, summary="Staff only")
    def get(self, request: Request) -> Response:
        return Response(s.SystemStatsSerializer(selectors.system_stats()).data)
