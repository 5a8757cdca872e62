"""The Free plan's monthly allowances come once per person, with the personal team.

A team created on top of it is on Free too, but without the Free quota and free uses:
creating teams must never mint free unlocks or searches. On a paid plan it has the plan's
quota and the free uses like any team.
"""

from __future__ import annotations

import pytest

from credits.models import QuotaUsage, Wallet
from credits.services import credits_grant, wallet_get_or_create, wallet_set_plan
from tests.factories import account_of

pytestmark = pytest.mark.django_db

UNLOCK = "/api/v1/search/creator/humansofny/unlock"


def _new_team(client, name="Side project"):
    response = client.post("/api/v1/teams/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["team"]["id"]


def _quotas(client, team_id):
    usage = client.get(f"/api/v1/teams/{team_id}/usage", headers={"X-Team-ID": team_id})
    assert usage.status_code == 200, usage.content
    return {row["action_type"]: row for row in usage.json()["quotas"]}


def test_a_created_team_does_not_mint_free_unlocks(api_client, analysed):
    personal, _ = wallet_get_or_create(account_id=account_of(api_client.user))
    QuotaUsage.objects.create(
        wallet=personal, cycle_start=personal.cycle_start, action_type="influencer_unlock", free_used=0, plan_used=5
    )
    assert api_client.post(UNLOCK).status_code == 402  # the person's Free quota is used up

    team_id = _new_team(api_client)
    refused = api_client.post(UNLOCK, headers={"X-Team-ID": team_id})

    assert refused.status_code == 402, refused.content
    assert refused.json()["error"]["details"]["price"] == 25
    assert refused.json()["error"]["details"]["free_allowances"] is False
    assert "personal team" in refused.json()["error"]["message"]
    assert "free_allowances" not in api_client.post(UNLOCK).json()["error"]["details"]  # the personal team
    assert api_client.get("/api/v1/search/creator/humansofny", headers={"X-Team-ID": team_id}).json()["locked"]
    quotas = _quotas(api_client, team_id)
    assert quotas["influencer_unlock"]["plan_quota"] == 0
    assert quotas["advanced_search"]["free_allowance"] == 0
    assert Wallet.objects.get(account_id=team_id).free_allowances is False


def test_the_personal_team_keeps_the_free_allowances(api_client, analysed):
    quotas = _quotas(api_client, str(account_of(api_client.user)))
    assert quotas["influencer_unlock"]["plan_quota"] == 5 and quotas["advanced_search"]["free_allowance"] == 10
    response = api_client.post(UNLOCK)
    assert response.status_code == 200 and response.json()["credits"]["buckets"] == ["plan_quota"]


def test_a_created_team_pays_with_credits_or_a_paid_plan(api_client, analysed):
    team_id = _new_team(api_client)
    credits_grant(account_id=team_id, amount=30, reason="test", idempotency_key="side-grant")
    paid = api_client.post(UNLOCK, headers={"X-Team-ID": team_id})
    assert paid.status_code == 200 and paid.json()["credits"]["buckets"] == ["credits"]
    assert paid.json()["credits"]["balance"] == 5

    other = _new_team(api_client, "Agency")
    wallet_set_plan(account_id=other, plan_code="standard")
    on_plan = api_client.post(UNLOCK, headers={"X-Team-ID": other})
    assert on_plan.status_code == 200 and on_plan.json()["credits"]["buckets"] == ["plan_quota"]
    quotas = _quotas(api_client, other)
    assert quotas["influencer_unlock"]["plan_quota"] == 500 and quotas["advanced_search"]["free_allowance"] == 10
