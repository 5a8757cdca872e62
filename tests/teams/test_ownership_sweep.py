"""An ownership sweep generated from the URL resolver: nothing of one team reaches another.

Two teams: A (owner, a member, an unlocked and analysed creator, an export, a job, a pending
invitation) and B. Every API route that takes an id, a username or a token is called with
A's objects, with every method its view answers, as B's owner (and, for routes under
``/teams/<team_id>/``, also with B's own team id and A's object ids): each answer is a 404
(or a 403), never A's data. Routes whose username names a public creator (the preview, the
unlock and email reveal that act for the caller's own team) must answer for B's team and
show nothing of A. Anonymous calls to every account route answer 401.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from analysis import services as analysis_services
from analysis.models import AnalysisJob
from credits.services import credits_grant, wallet_set_plan
from profiles.models import Export, Profile
from profiles.services.access import access_grant
from teams.models import Invitation, Membership
from tests.factories import UserFactory, team_of

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
# Routes whose username is a public creator: they act for the caller's own team.
PUBLIC_CREATOR_ROUTES = {
    "api/v1/search/creator/<str:username>",
    "api/v1/search/creator/<str:username>/unlock",
    "api/v1/discovery/creators/<str:username>/email/unlock",
    "api/v1/discovery/lookalikes/<str:username>",
}
# Routes that take no object of an account (public tokens checked elsewhere).
NOT_ACCOUNT_OBJECTS = {
    "api/v1/auth/",  # password reset / verification tokens belong to users, tested in accounts
}
METHODS = ("get", "post", "put", "patch", "delete")


def _routes(resolver=None, prefix: str = ""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is not None and issubclass(view_class, APIView) and route.startswith("api/v1/"):
                yield route, view_class


def _methods(view_class) -> list[str]:
    return [m for m in METHODS if hasattr(view_class, m)]


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def world(pipeline_settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        analysis_services.job_start(username="humansofny")
    creator = Profile.objects.get(username="humansofny")
    a, a_member, b = UserFactory(), UserFactory(), UserFactory()
    team_a, team_b = team_of(a), team_of(b)
    for team in (team_a, team_b):
        wallet_set_plan(account_id=team.pk, plan_code="premium")
        credits_grant(account_id=team.pk, amount=500, reason="test", idempotency_key=f"fund-{team.pk}")
    Membership.objects.create(team=team_a, user=a_member, role=Membership.Role.MEMBER)
    access_grant(team=team_a, profile=creator, granted_by=a)
    export = Export.objects.create(team=team_a, user=a, usernames=["humansofny"], format="csv")
    job = AnalysisJob.objects.create(username="someoneelse", requested_by=a, team=team_a, status="completed")
    invitation = Invitation.objects.create(team=team_a, email="guest@example.com", invited_by=a)
    values_a = {
        "username": "humansofny",
        "export_id": export.pk,
        "job_id": job.pk,
        "team_id": team_a.pk,
        "user_id": a_member.pk,
        "invitation_id": invitation.pk,
        "action_type": "influencer_unlock",  # a public price, not an account object
    }
    return {"a": a, "b": b, "team_a": team_a, "team_b": team_b, "values_a": values_a}


def _fill(route: str, values: dict) -> str:
    def sub(match):
        name = match.group("name")
        assert name in values, f"the sweep does not know the parameter {name!r} of {route}: add it"
        return str(values[name])

    return "/" + PARAM.sub(sub, route)


def test_every_object_route_refuses_another_teams_objects(world):
    client_b = _client(world["b"])
    checked = 0
    team_a_id = str(world["team_a"].pk)
    # The public creator routes last: their unlock acts (and pays) for B's own team.
    routes = sorted(_routes(), key=lambda found: found[0] in PUBLIC_CREATOR_ROUTES or "action_type" in found[0])
    for route, view_class in routes:
        if not PARAM.search(route) or any(route.startswith(p) for p in NOT_ACCOUNT_OBJECTS):
            continue
        variants = [world["values_a"]]
        if "<uuid:team_id>" in route and route.count("<") > 1:
            variants.append({**world["values_a"], "team_id": world["team_b"].pk})
        for values in variants:
            url = _fill(route, values)
            for method in _methods(view_class):
                response = getattr(client_b, method)(url, {}, format="json")
                checked += 1
                assert response.status_code < 500, (method, url, response.content[:300])
                if route in PUBLIC_CREATOR_ROUTES or "<slug:action_type>" in route:
                    assert team_a_id not in response.content.decode(), (method, url)
                    continue
                assert response.status_code in (403, 404), (method, url, response.status_code, response.content[:300])
                assert response.json()["error"]["code"], (method, url)
    assert checked >= 25


def test_anonymous_calls_to_account_routes_answer_401(world):
    anon = APIClient()
    public = {"api/v1/auth/register", "api/v1/auth/login", "api/v1/auth/token/refresh", "api/v1/auth/logout"}
    refused = 0
    for route, view_class in _routes():
        if route.startswith("api/v1/auth/") and ("password" in route or "verify" in route or route in public):
            continue
        if view_class.permission_classes and all(
            getattr(p, "__name__", "") == "AllowAny" for p in view_class.permission_classes
        ):
            continue  # explicitly public (e.g. the Stripe webhook, the price list)
        url = "/" + PARAM.sub(lambda m: str(uuid.uuid4()) if "uuid" in (m.group(0)) else "1", route)
        url = url.replace("/<str:username>", "/humansofny")
        for method in _methods(view_class):
            response = getattr(anon, method)(url, {}, format="json")
            assert response.status_code == 401, (method, url, response.status_code)
            refused += 1
    assert refused >= 20
