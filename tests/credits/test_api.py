"""The credits API: shapes, values, isolation between users, no writable balance, schema."""

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from credits.models import Wallet
from credits.services import credits_refund, credits_spend, wallet_get_or_create, wallet_set_plan
from tests.factories import account_of

pytestmark = pytest.mark.django_db

BASE = "/api/v1/credits/"
GET_ENDPOINTS = [
    "balance",
    "wallet/summary",
    "dashboard",
    "transactions",
    "transactions/search?q=x",
    "usage/monthly",
    "analytics/spending?months=3",
    "can-perform/influencer_unlock",
    "pricing",
    "pricing/influencer_unlock",
    "allowances",
]


def unlock(user, i, key=None):
    return credits_spend(
        account_id=account_of(user),
        action_type="influencer_unlock",
        reference=f"profile:{i}",
        idempotency_key=key or f"u{i}",
    )


@pytest.mark.parametrize("endpoint", [*GET_ENDPOINTS, "system/stats"])
def test_every_endpoint_needs_a_login(anon_client, endpoint):
    assert anon_client.get(BASE + endpoint).status_code == 401


def test_balance(api_client, user, fund):
    fund(user, 120)
    r = api_client.get(BASE + "balance")
    assert r.status_code == 200
    body = r.json()
    assert (body["balance"], body["plan"], body["cached"]) == (120, "free", False)
    assert api_client.get(BASE + "balance").json()["cached"] is True


def test_summary_and_wallet_create(api_client, user):
    # The team's wallet is created with the team (at sign-up): creating it again is a no-op.
    Wallet.objects.filter(account_id=account_of(user)).delete()
    r = api_client.post(BASE + "wallet/create")
    assert r.status_code == 201 and r.json()["created"] is True
    r = api_client.post(BASE + "wallet/create")
    assert r.status_code == 200 and r.json()["created"] is False
    assert Wallet.objects.filter(account_id=account_of(user)).count() == 1
    unlock(user, 1)
    body = api_client.get(BASE + "wallet/summary").json()
    assert body["balance"] == 0 and body["plan"]["code"] == "free"
    assert body["plan"]["quotas"] == {"influencer_unlock": 5, "email_unlock": 0, "post_analytics": 0}
    unlocks = next(a for a in body["allowances"] if a["action_type"] == "influencer_unlock")
    assert (unlocks["plan_quota"], unlocks["plan_used"], unlocks["plan_left"]) == (5, 1, 4)


def test_transactions_are_paginated_and_filtered(api_client, user, fund):
    fund(user, 1000)
    for i in range(7):
        unlock(user, i)
    credits_refund(
        account_id=account_of(user), spend_idempotency_key="u6", reason="scrape failed", idempotency_key="r6"
    )
    body = api_client.get(BASE + "transactions?page_size=3").json()
    assert body["count"] == 9 and len(body["results"]) == 3
    assert set(body["results"][0]) >= {"id", "kind", "amount", "balance_before", "balance_after", "buckets"}
    assert body["results"][0]["kind"] == "refund"
    spends = api_client.get(BASE + "transactions?kind=spend").json()
    assert spends["count"] == 7 and {t["action_type"] for t in spends["results"]} == {"influencer_unlock"}
    assert api_client.get(BASE + "transactions?action_type=bulk_export").json()["count"] == 0
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert api_client.get(BASE + "transactions", {"date_from": future}).json()["count"] == 0
    assert api_client.get(BASE + "transactions", {"date_to": future}).json()["count"] == 9
    assert api_client.get(BASE + "transactions?kind=bogus").status_code == 400
    found = api_client.get(BASE + "transactions/search?q=scrape").json()
    assert found["count"] == 1 and found["results"][0]["reason"] == "scrape failed"
    assert api_client.get(BASE + "transactions/search?q=profile:3").json()["count"] == 1


def test_usage_and_spending_analytics(api_client, user, fund):
    fund(user, 1000)
    for i in range(7):
        unlock(user, i)
    credits_spend(
        account_id=account_of(user), action_type="bulk_export", quantity=2, reference="export:1", idempotency_key="x"
    )
    usage = api_client.get(BASE + "usage/monthly").json()
    unlocks = next(a for a in usage["current_cycle"] if a["action_type"] == "influencer_unlock")
    assert unlocks["plan_used"] == 5
    cycle_rows = {row["action_type"]: row for row in usage["cycles"]}
    assert cycle_rows["influencer_unlock"]["credits_spent"] == 50
    assert (cycle_rows["bulk_export"]["free_used"], cycle_rows["bulk_export"]["credits_spent"]) == (1, 50)
    spending = api_client.get(BASE + "analytics/spending?months=2").json()
    month = timezone.now().strftime("%Y-%m")
    assert {(r["month"], r["action_type"], r["credits"]) for r in spending} == {
        (month, "bulk_export", 50),
        (month, "influencer_unlock", 50),
    }


def test_can_perform_reports_cost_and_bucket(api_client, user, fund):
    body = api_client.get(BASE + "can-perform/influencer_unlock").json()
    assert (body["allowed"], body["price"], body["buckets"]) == (True, 0, ["plan_quota"])
    for i in range(5):
        unlock(user, i)
    body = api_client.get(BASE + "can-perform/influencer_unlock").json()
    assert (body["allowed"], body["price"], body["missing"], body["buckets"]) == (False, 25, 25, ["credits"])
    fund(user, 100)
    body = api_client.get(BASE + "can-perform/advanced_search?quantity=11").json()
    assert (body["allowed"], body["price"], body["buckets"]) == (True, 15, ["free"] * 10 + ["credits"])
    assert api_client.get(BASE + "can-perform/teleport").status_code == 404


def test_pricing_and_calculate(api_client, user):
    body = api_client.get(BASE + "pricing").json()
    assert {a["action_type"]: a["credits_per_unit"] for a in body["actions"]}["influencer_unlock"] == 25
    assert [p["code"] for p in body["plans"]] == ["free", "standard", "premium"]
    assert {p["code"]: p["your_price_cents"] for p in body["packages"]} == {
        "starter": 5000,
        "professional": 12500,
        "enterprise": 50000,
    }
    assert api_client.get(BASE + "pricing/discovery_pagination").json() == {
        "action_type": "discovery_pagination",
        "credits_per_unit": 10,
        "free_uses_per_month": 5,
        "description": "One page of discovery results",
    }
    assert api_client.get(BASE + "pricing/nope").status_code == 404
    items = [("influencer_unlock", 4), ("influencer_unlock", 3), ("discovery_pagination", 6)]
    r = api_client.post(BASE + "pricing/calculate", {"items": [{"action_type": a, "quantity": q} for a, q in items]})
    assert r.status_code == 200
    body = r.json()
    # 4 quota; then 1 quota + 2 x 25; then 5 free pages + 1 x 10.
    assert [i["price"] for i in body["items"]] == [0, 50, 10]
    assert (body["total"], body["balance"], body["missing"], body["affordable"]) == (60, 0, 60, False)
    assert api_client.post(BASE + "pricing/calculate", {"items": []}).status_code == 400
    bad = api_client.post(BASE + "pricing/calculate", {"items": [{"action_type": "x", "quantity": 0}]})
    assert bad.status_code == 400


def test_premium_sees_its_discount(api_client, user):
    wallet_set_plan(account_id=account_of(user), plan_code="premium")
    body = api_client.get(BASE + "pricing").json()
    assert body["your_plan"] == "premium"
    assert {p["code"]: p["your_price_cents"] for p in body["packages"]}["enterprise"] == 40000


def test_allowances(api_client, user):
    body = api_client.get(BASE + "allowances").json()
    rows = {a["action_type"]: a for a in body}
    assert rows["advanced_search"]["free_allowance"] == 10
    assert rows["influencer_unlock"]["plan_quota"] == 5
    assert "campaign_analysis" not in rows


def test_system_stats_is_staff_only(api_client, staff_client, user, fund):
    fund(user, 300)
    assert api_client.get(BASE + "system/stats").status_code == 403
    body = staff_client.get(BASE + "system/stats").json()
    assert body["wallets"] >= 1 and body["total_balance"] >= 300
    assert body["last_30_days"]["by_kind"]["earn"]["amount"] >= 300


def _values(data):
    """Every scalar in a JSON document (numbers compared as numbers, not digits in timestamps)."""
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    else:
        yield data


def test_users_only_ever_see_their_own_wallet(api_client, other_client, user, other_user, fund):
    fund(other_user, 999)
    unlock(other_user, "secret")
    other_wallet, _ = wallet_get_or_create(account_id=account_of(other_user))
    for endpoint in GET_ENDPOINTS:
        for params in ({}, {"user": str(other_user.pk)}, {"user_id": str(other_user.pk)}, {"wallet": other_wallet.pk}):
            r = api_client.get(BASE + endpoint, params)
            assert r.status_code == 200, endpoint
            values = list(_values(r.json()))
            assert 999 not in values and 999 - 25 not in values, endpoint
            assert not any(isinstance(v, str) and "secret" in v for v in values), endpoint
    assert api_client.get(BASE + "balance").json()["balance"] == 0
    assert other_client.get(BASE + "balance").json()["balance"] == 999 - 0


@pytest.mark.parametrize("endpoint", [*GET_ENDPOINTS, "wallet/create", "pricing/calculate"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_endpoint_writes_a_balance(api_client, user, endpoint, method):
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    payload = {"balance": 1_000_000, "lifetime_earned": 5, "lifetime_spent": 0, "plan": "premium", "items": []}
    r = getattr(api_client, method)(BASE + endpoint.split("?")[0], payload)
    assert r.status_code in (200, 201, 400, 405)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.lifetime_earned, wallet.plan.code) == (0, 0, "free")
    assert not wallet.transactions.exists()


def test_every_credit_endpoint_is_in_the_schema_with_a_response(staff_client):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    expected = [
        ("/api/v1/credits/balance", "get"),
        ("/api/v1/credits/wallet/summary", "get"),
        ("/api/v1/credits/wallet/create", "post"),
        ("/api/v1/credits/dashboard", "get"),
        ("/api/v1/credits/transactions", "get"),
        ("/api/v1/credits/transactions/search", "get"),
        ("/api/v1/credits/usage/monthly", "get"),
        ("/api/v1/credits/analytics/spending", "get"),
        ("/api/v1/credits/can-perform/{action_type}", "get"),
        ("/api/v1/credits/pricing", "get"),
        ("/api/v1/credits/pricing/{action_type}", "get"),
        ("/api/v1/credits/pricing/calculate", "post"),
        ("/api/v1/credits/allowances", "get"),
        ("/api/v1/credits/system/stats", "get"),
    ]
    for path, method in expected:
        assert path in paths, path
        responses = paths[path][method]["responses"]
        ok = responses.get("200") or responses.get("201")
        assert ok and "content" in ok, path
    components = schema["components"]["schemas"]
    assert {"Balance", "WalletSummary", "Quote", "CalculateOutput", "PaginatedTransactionList"} <= set(components)
    assert components["Balance"]["properties"]["balance"]["type"] == "integer"
