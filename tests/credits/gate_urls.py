"""Test-only views using the credit gate (mounted with ``@pytest.mark.urls``).

"Access" to a creator is a ``Group`` row named ``access:<user>:<ref>``: a real database
write that the gate must commit with the charge or roll back with it.
"""

from django.contrib.auth.models import Group
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from credits.gate import requires_credits
from credits.services import credits_spend
from teams.api.mixins import TeamScopedMixin


def access_name(user, ref: str) -> str:
    return f"access:{user.pk}:{ref}"


def has_access(request, ref: str) -> bool:
    return Group.objects.filter(name=access_name(request.user, ref)).exists()


class UnlockView(TeamScopedMixin, APIView):
    @requires_credits("influencer_unlock", reference=lambda request, ref: f"profile:{ref}", skip_if=has_access)
    def post(self, request, ref):
        Group.objects.get_or_create(name=access_name(request.user, ref))
        mode = request.query_params.get("mode")
        if mode == "fail":
            return Response({"error": "provider down"}, status=503)
        if mode == "raise":
            raise RuntimeError("boom")
        if mode == "drain":
            # Something inside the action spends credits, so the gate's charge fails.
            credits_spend(
                account_id=request.account_id, action_type="email_unlock", reference="x", idempotency_key="drain"
            )
        return Response({"unlocked": ref}, status=201)


class ExportView(TeamScopedMixin, APIView):
    @requires_credits(
        "advanced_search",
        reference=lambda request: f"search:{request.data.get('q', '')}",
        quantity=lambda request: int(request.data.get("pages", 1)),
    )
    def post(self, request):
        Group.objects.create(name=f"search:{request.user.pk}:{Group.objects.count()}")
        return Response({"results": []})


urlpatterns = [
    path("unlock/<str:ref>", UnlockView.as_view()),
    path("search", ExportView.as_view()),
]
