"""Billing fixtures: the fake Stripe API, Stripe keys pointed at it, teams, the webhook endpoint."""

from __future__ import annotations

import json
import logging
import time

import pytest
import stripe
from django.test import Client

from billing.catalog import catalog_sync
from billing.services import webhook_endpoint_setup
from teams.models import Membership, Team
from teams.services import team_create
from tests.billing.fake_stripe import FakeStripe, sign
from tests.factories import UserFactory

# A fake key: it only ever reaches the fake server (and the tests check it never leaves in a body).
logging.getLogger("stripe").setLevel(logging.WARNING)

FAKE_SECRET_KEY = "sk_test_" + "FakeKeyForTheLocalServer0" + "0" * 8


@pytest.fixture
def fake_stripe(settings, monkeypatch):
    fake = FakeStripe().start()
    settings.STRIPE_LIVE_MODE = False
    settings.STRIPE_TEST_SECRET_KEY = FAKE_SECRET_KEY
    settings.STRIPE_TEST_PUBLIC_KEY = "pk_test_fake"
    settings.STRIPE_API_HOST = fake.base_url
    monkeypatch.setattr(stripe, "api_base", fake.base_url)
    # No retries against the fake: a failing call fails the test at once.
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    yield fake
    fake.stop()


@pytest.fixture
def catalog(fake_stripe, db):
    return catalog_sync()


@pytest.fixture
def endpoint(fake_stripe, db):
    return webhook_endpoint_setup(base_url="https://api.example.test")


def make_team(*, name: str = "Brand", owner=None, members: dict | None = None) -> Team:
    owner = owner or UserFactory()
    team = team_create(user=owner, name=name)
    for role, user in (members or {}).items():
        Membership.objects.create(team=team, user=user, role=role)
    return team


@pytest.fixture
def team(db):
    return make_team()


@pytest.fixture
def owner_client(team):
    from rest_framework.test import APIClient

    client = APIClient()
    owner = team.memberships.get(role="owner").user
    client.force_authenticate(owner)
    client.user = owner
    client.credentials(HTTP_X_TEAM_ID=str(team.pk))
    return client


def deliver(endpoint, event: dict, *, secret: str | None = None, timestamp: int | None = None, body: str | None = None):
    """POST an event to our webhook endpoint with a real Stripe signature."""
    payload = json.dumps(event)
    header = sign(payload, secret or endpoint.secret, timestamp=timestamp)
    return Client(raise_request_exception=False).post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/",
        data=body if body is not None else payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def now() -> int:
    return int(time.time())


def wallet_of(team):
    """The team's wallet, read through billing's one wallet lookup."""
    from billing.selectors import team_wallet_kwargs
    from credits.models import Wallet
    from credits.services import wallet_get_or_create

    wallet, _ = wallet_get_or_create(**team_wallet_kwargs(team))
    return Wallet.objects.select_related("plan").get(pk=wallet.pk)


def unlock_allowance(team):
    from credits.selectors import allowance_list

    wallet = wallet_of(team)
    return next(a for a in allowance_list(wallet=wallet) if a.action_type == "influencer_unlock")


def spend_unlocks(team, n: int, *, tag: str) -> None:
    from billing.selectors import team_wallet_kwargs
    from credits.services import credits_spend

    for i in range(n):
        credits_spend(
            **team_wallet_kwargs(team),
            action_type="influencer_unlock",
            reference=f"profile:{tag}-{i}",
            idempotency_key=f"{tag}-{i}",
        )
