"""Tenancy, enforced once: every account endpoint acts for the active team, and only for it.

- a walk over every URL pattern proves each API view either resolves the team through
  ``TeamScopedMixin`` or is explicitly listed as public/user-level;
- two members of one team share unlocks, the credit balance and exports; another team sees
  the locked preview; a removed member is refused on their very next request (the cached
  report's fast path included);
- ``X-Team-ID`` selects one of the user's teams; any other team is a 404.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from credits.models import CreditTransaction, Wallet
from credits.services import credits_grant, wallet_set_plan
from profiles.models import Profile, TeamProfileAccess
from teams.api.mixins import TeamScopedMixin
from teams.models import Membership
from teams.services import team_create
from tests.factories import UserFactory, account_of, team_of

# Views that act for a user, not an account (sign-up, login, tokens, password, /me) or for
# staff only; each is checked here by name so that a new account view cannot hide among them.
NOT_TEAM_SCOPED = {
    "accounts.api.views.RegisterView",
    "accounts.api.views.LoginView",
    "accounts.api.views.RefreshView",
    "accounts.api.views.LogoutView",
    "accounts.api.views.MeView",
    "accounts.api.views.PasswordChangeView",
    "accounts.api.views.PasswordResetView",
    "accounts.api.views.PasswordResetConfirmView",
    "accounts.api.views.EmailVerifyView",
    "accounts.api.views.EmailVerifyResendView",
    "credits.api.views.SystemStatsView",
    # a user's own teams, creating one, accepting an invitation (the /teams/<team_id>/ views are scoped)
    "teams.api.views.TeamListCreateView",
    "teams.api.views.InvitationAcceptView",
    "config.health.WrappedAPIView",  # health probes (api/health, live, ready)
    "drf_spectacular.views.SpectacularAPIView",
    "drf_spectacular.views.SpectacularSwaggerView",
    "drf_spectacular.views.SpectacularSwaggerSplitView",
}


def _api_views(resolver=None, prefix: str = ""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, route)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
            if view_class is not None and issubclass(view_class, APIView):
                yield route, view_class


def test_every_api_view_resolves_the_active_team_or_is_listed_as_user_level():
    unscoped = []
    seen = 0
    for route, view_class in _api_views():
        seen += 1
        name = f"{view_class.__module__}.{view_class.__qualname__}"
        if not issubclass(view_class, TeamScopedMixin) and name not in NOT_TEAM_SCOPED:
            unscoped.append((route, name))
    assert seen > 20
    assert unscoped == [], f"API views acting for an account must use TeamScopedMixin: {unscoped}"


def test_a_scoped_view_cannot_override_get_queryset():
    with pytest.raises(TypeError, match="get_team_queryset"):

        class Forgetful(TeamScopedMixin, APIView):
            def get_queryset(self):
                return Profile.objects.all()


def _client(user, team=None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    if team is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}", HTTP_X_TEAM_ID=str(team.pk))
    return client


@pytest.mark.django_db
def test_sign_up_creates_a_personal_team_with_its_wallet(anon_client):
    r = anon_client.post(
        "/api/v1/auth/register", {"email": "New@Example.com", "password": "correct-horse-battery-9"}, format="json"
    )
    assert r.status_code == 201, r.content
    membership = Membership.objects.select_related("team").get(user__email__iexact="new@example.com")
    assert (membership.role, membership.is_default, membership.team.is_personal) == ("owner", True, True)
    assert Wallet.objects.get(account_id=membership.team_id).plan.code == "free"


@pytest.mark.django_db
def test_default_team_is_settable_and_x_team_id_selects_a_team(user):
    agency = team_create(user=user, name="Agency")
    client = _client(user)
    me = client.get("/api/v1/auth/me").json()
    assert me["default_team"] == str(account_of(user))
    credits_grant(account_id=agency.pk, amount=70, reason="test", idempotency_key="g")
    assert client.get("/api/v1/credits/balance").json()["balance"] == 0
    assert _client(user, agency).get("/api/v1/credits/balance").json()["balance"] == 70
    r = client.patch("/api/v1/auth/me", {"default_team": str(agency.pk)}, format="json")
    assert r.status_code == 200 and r.json()["default_team"] == str(agency.pk)
    assert _client(user).get("/api/v1/credits/balance").json()["balance"] == 70


@pytest.mark.django_db
def test_a_team_you_do_not_belong_to_is_a_404(user, other_user):
    stranger_team = team_of(other_user)
    for team_id in (str(stranger_team.pk), "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}", HTTP_X_TEAM_ID=team_id)
        r = client.get("/api/v1/credits/balance")
        assert r.status_code == 404 and r.json()["error"]["code"] == "team_not_found", team_id
    r = _client(user).patch("/api/v1/auth/me", {"default_team": str(stranger_team.pk)}, format="json")
    assert r.status_code == 404


@pytest.mark.django_db
def test_members_share_unlocks_credits_and_exports_and_a_removed_member_is_refused_at_once(
    analysed, django_capture_on_commit_callbacks
):
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    team = team_of(a)
    wallet_set_plan(account_id=team.pk, plan_code="standard")
    Membership.objects.create(team=team, user=b, role=Membership.Role.MEMBER)
    credits_grant(account_id=team.pk, amount=100, reason="test", idempotency_key="fund")
    client_a, client_b, client_c = _client(a), _client(b, team), _client(c)

    with django_capture_on_commit_callbacks(execute=True):
        r = client_a.post("/api/v1/search/creator/humansofny/unlock")
    assert r.status_code == 200, r.content
    spends = CreditTransaction.objects.filter(kind="spend", action_type="influencer_unlock")
    assert [(s.wallet.account_id, s.actor_id) for s in spends] == [(team.pk, a.pk)]
    assert TeamProfileAccess.objects.filter(team=team).count() == 1

    # B, the other member, sees the full report at no cost, and unlocking again is free.
    r = client_b.get("/api/v1/search/creator/humansofny")
    assert r.status_code == 200 and r.json()["locked"] is False and r.json()["report"]
    r = client_b.post("/api/v1/search/creator/humansofny/unlock")
    assert r.status_code == 200 and r.json()["credits"]["charged"] == 0
    assert spends.count() == 1
    # C, of another team, sees the locked preview.
    r = client_c.get("/api/v1/search/creator/humansofny")
    assert r.status_code == 200 and r.json()["locked"] is True and "report" not in r.json()
    # B's export of it works (the team is on a paid plan).
    r = client_b.post("/api/v1/exports", {"usernames": ["humansofny"], "format": "json"}, format="json")
    assert r.status_code == 200, r.content

    # The fast path serves B (warm it: the DRF view, then the cached answer).
    assert client_b.get("/api/v1/search/creator/humansofny").status_code == 200
    assert client_b.get("/api/v1/search/creator/humansofny").status_code == 200
    Membership.objects.filter(team=team, user=b).delete()
    r = client_b.get("/api/v1/search/creator/humansofny")
    assert r.status_code == 404 and r.json()["error"]["code"] == "team_not_found"
    # Without the header, B acts for their own team, which has not unlocked the creator.
    r = _client(b).get("/api/v1/search/creator/humansofny")
    assert r.status_code == 200 and r.json()["locked"] is True
