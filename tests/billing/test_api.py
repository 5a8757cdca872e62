"""Billing API: configuration, roles, other teams, the catalogue, and what is sent to Stripe."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from billing.models import BillingAccount, TopUpPurchase
from teams.models import Membership
from tests.billing.conftest import FAKE_SECRET_KEY, deliver, make_team
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/billing/plans", None),
    ("post", "/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"}),
    ("post", "/api/v1/billing/checkout/topup", {"package": "starter"}),
    ("post", "/api/v1/billing/portal", None),
    ("get", "/api/v1/billing/subscription", None),
    ("post", "/api/v1/billing/subscription/change", {"plan": "premium", "interval": "month"}),
    ("post", "/api/v1/billing/subscription/cancel", None),
    ("post", "/api/v1/billing/subscription/resume", None),
    ("get", "/api/v1/billing/invoices", None),
]


def _client(user, team=None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    if team is not None:
        client.credentials(HTTP_X_TEAM_ID=str(team.pk))
    return client


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
def test_without_keys_every_billing_endpoint_is_503(settings, owner_client, method, url, body):
    settings.STRIPE_TEST_SECRET_KEY = ""
    settings.STRIPE_LIVE_SECRET_KEY = ""
    response = getattr(owner_client, method)(url, body, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "billing_not_configured"


def test_without_keys_the_rest_of_the_api_still_works(settings, owner_client):
    settings.STRIPE_TEST_SECRET_KEY = ""
    assert owner_client.get("/api/v1/credits/balance").status_code == 200


def test_live_mode_uses_the_live_key(settings, owner_client):
    settings.STRIPE_TEST_SECRET_KEY = FAKE_SECRET_KEY
    settings.STRIPE_LIVE_MODE = True
    settings.STRIPE_LIVE_SECRET_KEY = ""
    assert owner_client.get("/api/v1/billing/plans").status_code == 503


def test_plans_show_the_prices_this_team_pays(catalog, team, owner_client):
    body = owner_client.get("/api/v1/billing/plans").json()
    assert body["current_plan"] == "free"
    plans = {p["code"]: p for p in body["plans"]}
    assert plans["standard"]["monthly_price_cents"] == 19900 and plans["standard"]["annual_price_cents"] == 199000
    assert plans["premium"]["seats"] == 5 and plans["premium"]["quotas"]["influencer_unlock"] == 2000
    assert plans["premium"]["lookup_keys"] == {"month": "plan:premium:month", "year": "plan:premium:year"}
    packages = {p["code"]: p for p in body["packages"]}
    assert packages["starter"]["price_cents"] == 5000 and packages["enterprise"]["credits"] == 10000

    from billing.selectors import team_wallet_kwargs
    from credits.services import wallet_set_plan

    wallet_set_plan(**team_wallet_kwargs(team), plan_code="premium")
    packages = {p["code"]: p for p in owner_client.get("/api/v1/billing/plans").json()["packages"]}
    assert packages["starter"]["price_cents"] == 4000 and packages["starter"]["lookup_key"] == "topup:starter:premium"
    assert packages["professional"]["price_cents"] == 10000 and packages["enterprise"]["price_cents"] == 40000


def test_members_and_admins_read_but_only_the_owner_pays_or_opens_the_portal(catalog, fake_stripe):
    member, admin = UserFactory(), UserFactory()
    team = make_team(members={Membership.Role.MEMBER: member})
    Membership.objects.create(team=team, user=admin, role=Membership.Role.ADMIN)
    writes = [
        ("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"}),
        ("/api/v1/billing/checkout/topup", {"package": "starter"}),
        ("/api/v1/billing/portal", None),
        ("/api/v1/billing/subscription/change", {"plan": "premium", "interval": "month"}),
        ("/api/v1/billing/subscription/cancel", None),
        ("/api/v1/billing/subscription/resume", None),
    ]
    for user in (member, admin):
        client = _client(user, team)
        assert client.get("/api/v1/billing/plans").status_code == 200
        assert client.get("/api/v1/billing/subscription").status_code == 200
        for url, body in writes:
            response = client.post(url, body, format="json")
            assert response.status_code == 403, url
            assert response.json()["error"]["code"] == "billing_owner_only"
    assert not any(r.path in ("/v1/checkout/sessions", "/v1/billing_portal/sessions") for r in fake_stripe.requests)
    as_owner = _client(team.memberships.get(role=Membership.Role.OWNER).user, team)
    assert as_owner.post("/api/v1/billing/checkout/topup", {"package": "starter"}, format="json").status_code == 201
    portal = as_owner.post("/api/v1/billing/portal")
    assert portal.status_code == 201 and portal.json()["url"].startswith("https://billing.stripe.test/")


def test_another_teams_billing_is_404(catalog, team, owner_client):
    stranger_team = make_team(name="Other")
    stranger = _client(stranger_team.memberships.get().user, team)
    for method, url, body in ENDPOINTS:
        response = getattr(stranger, method)(url, body, format="json")
        assert response.status_code == 404, url
    # Without X-Team-ID a user acts for their own (personal) team, never someone else's.
    own = _client(UserFactory()).get("/api/v1/billing/subscription")
    assert own.status_code == 200 and own.json()["plan"] == "free" and own.json()["status"] == "none"
    bad = _client(stranger_team.memberships.get().user)
    bad.credentials(HTTP_X_TEAM_ID="not-a-uuid")
    assert bad.get("/api/v1/billing/invoices").status_code == 404


def test_one_customer_per_team_and_no_subscription_errors(catalog, team, owner_client, fake_stripe):
    owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"})
    owner_client.post("/api/v1/billing/checkout/topup", {"package": "enterprise"})
    owner_client.post("/api/v1/billing/portal")
    customers = [o for o in fake_stripe.objects.values() if o["object"] == "customer"]
    assert len(customers) == 1
    assert customers[0]["email"] == team.billing_email
    assert BillingAccount.objects.get(team=team).stripe_customer_id == customers[0]["id"]
    response = owner_client.post("/api/v1/billing/subscription/cancel")
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_subscription"
    response = owner_client.post("/api/v1/billing/checkout/topup", {"package": "nope"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_package"


def test_nothing_secret_is_sent_to_stripe(catalog, endpoint, team, owner_client, fake_stripe):
    owner = team.memberships.get(role="owner").user
    response = owner_client.post("/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"})
    paid = fake_stripe.pay_checkout(response.json()["id"])
    deliver(endpoint, fake_stripe.event("invoice.paid", paid["invoice"]["id"]))
    owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"})
    owner_client.post("/api/v1/billing/portal")
    owner_client.post("/api/v1/billing/subscription/change", {"plan": "standard", "interval": "year"})
    owner_client.post("/api/v1/billing/subscription/cancel")
    owner_client.get("/api/v1/billing/invoices")
    assert len(fake_stripe.requests) > 20
    forbidden = [FAKE_SECRET_KEY, endpoint.secret, owner.password, "correct-horse-battery-9"]
    for recorded in fake_stripe.requests:
        sent = json.dumps(recorded.params).lower()
        for word in ("password", "token", "secret", "sk_test", "whsec"):
            assert word not in sent, (recorded.path, recorded.params)
        for value in forbidden:
            assert value.lower() not in sent
        # The key travels only as the Authorization header, and always with the pinned version.
        assert recorded.headers.get("Authorization") == f"Bearer {FAKE_SECRET_KEY}"
        assert recorded.headers.get("Stripe-Version") == "2026-08-26.dahlia"
    sessions = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions" and r.method == "POST"]
    assert [set(r.params["metadata"]) for r in sessions] == [
        {"team_id", "kind", "plan", "interval"},
        {"team_id", "kind", "package"},
    ]


@pytest.mark.parametrize(
    "status, raw",
    [
        (500, '{"error": {"type": "api_error", "message": "Something went wrong on Stripe\'s end."}}'),
        (403, '{"error": {"type": "invalid_request_error", "message": "The key lacks this permission."}}'),
        (502, "<html><body>Bad gateway</body></html>"),
    ],
)
def test_stripe_failing_is_a_503_on_every_billing_call(catalog, team, owner_client, fake_stripe, status, raw):
    """Not only a connection error: Stripe's 5xx, a permission refused or a body that is not JSON."""
    from djstripe.models import Price

    customer = owner_client.post("/api/v1/billing/portal")  # the customer exists before Stripe fails
    assert customer.status_code == 201
    Price.objects.all().delete()  # the local catalogue copy gone: price lookups ask Stripe too
    fake_stripe.failing = (status, raw)
    for method, url, body in [
        ("post", "/api/v1/billing/checkout/topup", {"package": "starter"}),
        ("post", "/api/v1/billing/checkout/subscription", {"plan": "standard", "interval": "month"}),
        ("post", "/api/v1/billing/portal", None),
        ("get", "/api/v1/billing/invoices", None),
    ]:
        response = getattr(owner_client, method)(url, body, format="json")
        assert response.status_code == 503, (url, response.content[:300])
        assert set(response.json()) == {"error"} and response.json()["error"]["code"] == "stripe_unavailable"
    assert not TopUpPurchase.objects.exists()  # nothing half-done is left behind
