"""Who may use which creator endpoint beyond being logged in."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from config.errors import PermissionDenied
from credits.models import Plan
from credits.selectors import plan_for_account


class PaidPlanRequired(BasePermission):
    """Exports are for paid plans (PRODUCT.md: "Export is for paid tiers at no extra credit")."""

    def has_permission(self, request, view) -> bool:
        if request.user.is_staff:
            return True
        plan = plan_for_account(account_id=request.account_id)
        if plan.code == Plan.Code.FREE:
            raise PermissionDenied(
                "Exports are part of the paid plans: upgrade to Standard or Premium to export creators.",
                code="paid_plan_required",
                details={"plan": plan.code},
            )
        return True
