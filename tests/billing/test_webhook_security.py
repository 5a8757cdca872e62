"""The one webhook endpoint: real HMAC signatures, 300 s tolerance, unknown endpoints, no secret override."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from djstripe.models import Event, WebhookEventTrigger

from billing.models import StripeEventReaction, TopUpPurchase
from tests.billing.conftest import deliver, wallet_of
from tests.billing.fake_stripe import sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_topup(catalog, endpoint, team, owner_client, fake_stripe):
    response = owner_client.post("/api/v1/billing/checkout/topup", {"package": "starter"})
    paid = fake_stripe.pay_checkout(response.json()["id"])
    return fake_stripe.event("checkout.session.completed", paid["session"]["id"])


def _nothing_changed(team, event):
    assert wallet_of(team).balance == 0
    assert not Event.objects.filter(id=event["id"]).exists()
    assert not StripeEventReaction.objects.exists()
    assert TopUpPurchase.objects.get().status == "pending"


def test_the_endpoint_row_holds_its_secret_and_default_tolerance(endpoint, fake_stripe):
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.djstripe_tolerance == 300
    assert endpoint.djstripe_validation_method == "verify_signature"
    assert endpoint.url == f"https://api.example.test/stripe/webhook/{endpoint.djstripe_uuid}/"
    created = next(r for r in fake_stripe.requests if r.path == "/v1/webhook_endpoints")
    assert "invoice.paid" in created.params["enabled_events"]


def test_a_tampered_body_is_refused(paid_topup, endpoint, team):
    tampered = json.dumps({**paid_topup, "type": "checkout.session.completed", "livemode": False, "x": 1})
    header = sign(json.dumps(paid_topup), endpoint.secret)
    response = Client().post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/", data=tampered, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )  # fmt: skip
    assert response.status_code == 400
    _nothing_changed(team, paid_topup)
    assert WebhookEventTrigger.objects.get().valid is False


def test_a_wrong_secret_is_refused(paid_topup, endpoint, team):
    assert deliver(endpoint, paid_topup, secret="whsec_someone_else").status_code == 400
    _nothing_changed(team, paid_topup)


def test_an_old_timestamp_is_refused(paid_topup, endpoint, team):
    assert deliver(endpoint, paid_topup, timestamp=int(time.time()) - 301).status_code == 400
    _nothing_changed(team, paid_topup)


def test_a_missing_signature_is_refused(paid_topup, endpoint, team):
    response = Client().post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/", data=json.dumps(paid_topup), content_type="application/json"
    )
    assert response.status_code == 400
    _nothing_changed(team, paid_topup)


def test_an_unknown_endpoint_is_404(paid_topup, endpoint, team):
    payload = json.dumps(paid_topup)
    response = Client().post(
        "/stripe/webhook/00000000-0000-4000-8000-000000000000/", data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, endpoint.secret),
    )  # fmt: skip
    assert response.status_code == 404
    _nothing_changed(team, paid_topup)


def test_a_request_cannot_choose_the_secret_even_in_debug(paid_topup, endpoint, team, settings):
    # dj-stripe accepts X-Djstripe-Webhook-Secret when DEBUG is on; our receiver drops it.
    settings.DEBUG = True
    payload = json.dumps(paid_topup)
    response = Client().post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/", data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, "whsec_forged"), HTTP_X_DJSTRIPE_WEBHOOK_SECRET="whsec_forged",
    )  # fmt: skip
    assert response.status_code == 400
    _nothing_changed(team, paid_topup)


def test_a_valid_signature_is_processed(paid_topup, endpoint, team):
    assert deliver(endpoint, paid_topup).status_code == 200
    assert wallet_of(team).balance == 1000


def test_a_failing_reaction_fails_the_request_so_stripe_retries(paid_topup, endpoint, team, fake_stripe):
    session_id = paid_topup["data"]["object"]["id"]
    saved = fake_stripe.objects.pop(session_id)  # Stripe cannot find it: our re-read fails
    response = deliver(endpoint, paid_topup)
    assert response.status_code == 500
    trigger = WebhookEventTrigger.objects.get()
    assert trigger.valid and not trigger.processed and trigger.traceback
    assert not Event.objects.filter(id=paid_topup["id"]).exists()
    fake_stripe.objects[session_id] = saved
    assert deliver(endpoint, paid_topup).status_code == 200  # Stripe's retry
    assert wallet_of(team).balance == 1000
