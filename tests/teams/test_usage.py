"""Team usage per billing cycle, computed from the credits ledger and quota rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from config.errors import ValidationFailed
from credits.models import QuotaUsage
from credits.services import credits_refund
from teams import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(owner):
    """The owner's personal team: the one with the Free plan's allowances (a created team has none)."""
    return services.team_personal_ensure(user=owner)


def _actions(usage, user) -> dict[str, dict]:
    row = next(m for m in usage["members"] if m["user_id"] == user.pk)
    return {a["action_type"]: {k: v for k, v in a.items() if k != "action_type"} for a in row["actions"]}


def _quota(usage, action_type) -> dict:
    return next(q for q in usage["quotas"] if q["action_type"] == action_type)


def test_usage_splits_plan_quota_free_uses_and_credits(team, owner, spend, fund):
    fund(team, 1000)
    for i in range(6):  # Free plan: 5 profile unlocks from the quota, the 6th paid 25 credits
        spend(team, owner, "influencer_unlock", f"unlock-{i}")
    spend(team, owner, "advanced_search", "search-1", quantity=12)  # 10 free uses, 2 x 15 credits

    usage = selectors.team_usage(team=team)

    assert usage["plan"] == "free"
    assert usage["is_current"] is True
    assert usage["cycle"] == f"{usage['cycle_start']:%Y-%m}"
    assert _actions(usage, owner) == {
        "advanced_search": {"plan_quota_units": 0, "free_uses": 10, "credit_units": 2, "credits": 30},
        "influencer_unlock": {"plan_quota_units": 5, "free_uses": 0, "credit_units": 1, "credits": 25},
    }
    owner_row = next(m for m in usage["members"] if m["user_id"] == owner.pk)
    assert (owner_row["role"], owner_row["total_credits"]) == ("owner", 55)
    assert _quota(usage, "influencer_unlock") == {
        "action_type": "influencer_unlock",
        "free_allowance": 0,
        "free_used": 0,
        "free_left": 0,
        "plan_quota": 5,
        "plan_used": 5,
        "plan_left": 0,
    }
    assert _quota(usage, "advanced_search")["free_left"] == 0


def test_member_sums_equal_the_quota_rows_and_refunds_give_back(team, owner, spend, fund):
    fund(team, 1000)
    outcomes = [spend(team, owner, "influencer_unlock", f"u{i}") for i in range(7)]
    credits_refund(
        **selectors.team_account(team),
        transaction_id=outcomes[0].transaction_id,
        reason="nothing delivered",
        idempotency_key="refund-0",
    )
    credits_refund(
        **selectors.team_account(team),
        transaction_id=outcomes[6].transaction_id,
        reason="nothing delivered",
        idempotency_key="refund-6",
    )

    usage = selectors.team_usage(team=team)

    unlocks = _actions(usage, owner)["influencer_unlock"]
    assert unlocks == {"plan_quota_units": 4, "free_uses": 0, "credit_units": 1, "credits": 25}
    quota_row = QuotaUsage.objects.get(action_type="influencer_unlock")
    total_plan = sum(
        a["plan_quota_units"] for m in usage["members"] for a in m["actions"] if a["action_type"] == "influencer_unlock"
    )
    assert total_plan == quota_row.plan_used == _quota(usage, "influencer_unlock")["plan_used"] == 4


def test_a_past_cycle_by_month(team, owner, spend, fund):
    fund(team, 1000)
    spend(team, owner, "influencer_unlock", "first-cycle")
    wallet = selectors.team_wallet(team)
    later = wallet.cycle_anchor + relativedelta(months=1) + timedelta(days=1)
    spend(team, owner, "influencer_unlock", "second-cycle-a", now=later)
    spend(team, owner, "influencer_unlock", "second-cycle-b", now=later)

    current = selectors.team_usage(team=team, now=later)
    first_month = f"{wallet.cycle_anchor:%Y-%m}"
    past = selectors.team_usage(team=team, cycle=first_month, now=later)

    assert current["cycle"] == f"{later:%Y-%m}" and current["is_current"] is True
    assert _actions(current, owner)["influencer_unlock"]["plan_quota_units"] == 2
    assert _quota(current, "influencer_unlock")["plan_left"] == 3
    assert past["cycle"] == first_month and past["is_current"] is False
    assert past["cycle_start"] == wallet.cycle_anchor
    assert _actions(past, owner)["influencer_unlock"]["plan_quota_units"] == 1
    assert _quota(past, "influencer_unlock")["plan_used"] == 1


def test_cycles_outside_the_wallets_life_are_refused(team, owner, fund):
    fund(team, 10)
    wallet = selectors.team_wallet(team)
    before = wallet.cycle_anchor - relativedelta(months=1)
    after = timezone.now() + relativedelta(months=2)
    for cycle in (f"{before:%Y-%m}", f"{after:%Y-%m}"):
        with pytest.raises(ValidationFailed) as exc:
            selectors.team_usage(team=team, cycle=cycle)
        assert exc.value.code == "cycle_out_of_range"
    for bad in ("2026-13", "2026-1", "last-month", "2026-01-01"):
        with pytest.raises(ValidationFailed) as exc:
            selectors.team_usage(team=team, cycle=bad)
        assert exc.value.code == "invalid_cycle"


def test_a_team_that_never_spent_shows_its_members_and_full_quotas(team, owner):
    usage = selectors.team_usage(team=team)
    assert [(m["user_id"], m["actions"], m["total_credits"]) for m in usage["members"]] == [(owner.pk, [], 0)]
    assert _quota(usage, "influencer_unlock")["plan_left"] == 5


def test_usage_over_http(team, owner, add_member, spend, fund, api_client):
    member = add_member(team)
    fund(team, 100)
    spend(team, owner, "influencer_unlock", "http-1")
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(member)
    response = client.get(f"/api/v1/teams/{team.pk}/usage")
    assert response.status_code == 200
    body = response.json()
    assert body["team"]["id"] == str(team.pk)
    assert body["plan"] == "premium"
    assert {m["email"] for m in body["members"]} == {owner.email, member.email}
    assert _quota(body, "influencer_unlock")["plan_used"] == 1
    bad = client.get(f"/api/v1/teams/{team.pk}/usage?cycle=2026-13")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_cycle"
    assert bad.json()["error"]["details"] == {"cycle": ["2026-13"]}


def test_usage_is_per_member_and_keeps_those_who_left(team, owner, add_member, spend, fund):
    from teams import services

    alice, bob = add_member(team), add_member(team)
    fund(team, 1000)
    spend(team, alice, "influencer_unlock", "a1")
    spend(team, alice, "influencer_unlock", "a2")
    spend(team, bob, "influencer_unlock", "b1")
    spend(team, owner, "advanced_search", "o1", quantity=3)
    services.membership_leave(team=team, user=bob)

    usage = selectors.team_usage(team=team)

    assert usage["plan"] == "premium"
    assert _actions(usage, alice) == {
        "influencer_unlock": {"plan_quota_units": 2, "free_uses": 0, "credit_units": 0, "credits": 0}
    }
    assert _actions(usage, owner) == {
        "advanced_search": {"plan_quota_units": 0, "free_uses": 3, "credit_units": 0, "credits": 0}
    }
    bob_row = next(m for m in usage["members"] if m["user_id"] == bob.pk)
    assert (bob_row["role"], bob_row["is_member"], bob_row["email"]) == (None, False, bob.email)
    assert _actions(usage, bob)["influencer_unlock"]["plan_quota_units"] == 1
    assert (
        _quota(usage, "influencer_unlock")["plan_used"]
        == 3
        == QuotaUsage.objects.get(action_type="influencer_unlock").plan_used
    )
    assert _quota(usage, "advanced_search")["free_left"] == 7
