"""Property-based test: random sequences of spend, replay, refund, grant, reset and adjust.

A simple in-memory model (balance, quota uses of the current cycle, spends) predicts every
outcome; after each step the database must agree with it and keep the invariants: balance
>= 0, the ledger sums to the balance, each row's balance_before is the previous row's
balance_after, lifetime totals explain the balance, quota uses never exceed the allowance.
"""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from credits.errors import AlreadyRefunded, InsufficientCredits, InvalidAmount
from credits.models import CreditTransaction, PricingRule, QuotaUsage, Wallet
from credits.services import (
    credits_grant,
    credits_refund,
    credits_spend,
    cycle_renew,
    wallet_adjust,
    wallet_get_or_create,
)
from tests.factories import UserFactory, account_of

# action: (credits per unit, free uses per month, Free-plan quota)
ACTIONS = {
    "influencer_unlock": (25, 0, 5),
    "bulk_export": (50, 1, 0),
    "advanced_search": (15, 10, 0),
    "email_unlock": (1, 0, 0),
}


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.user = UserFactory()
        self.staff = UserFactory(is_staff=True)
        self.wallet, _ = wallet_get_or_create(account_id=account_of(self.user))
        self.balance = 0
        self.cycle = 0
        self.used: dict[str, list[int]] = {a: [0, 0] for a in ACTIONS}  # free, plan (this cycle)
        self.spends: list[dict] = []  # key, action, qty, buckets, charged, cycle, refunded
        self.n = 0
        # A clock that "reset" moves past the end of the cycle.
        self.now = self.wallet.cycle_start + timedelta(minutes=1)

    def _key(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n}"

    @rule(action=st.sampled_from(sorted(ACTIONS)), qty=st.integers(1, 4))
    def spend(self, action, qty):
        price, free, quota = ACTIONS[action]
        free_used, plan_used = self.used[action]
        f = min(qty, free - free_used)
        p = min(qty - f, quota - plan_used)
        expected_buckets = ["free"] * f + ["plan_quota"] * p + ["credits"] * (qty - f - p)
        cost = (qty - f - p) * price
        key = self._key("spend")
        try:
            outcome = credits_spend(
                account_id=account_of(self.user),
                action_type=action,
                quantity=qty,
                reference=f"ref:{key}",
                idempotency_key=key,
                now=self.now,
            )
        except InsufficientCredits as exc:
            assert cost > self.balance
            assert exc.details["missing"] == cost - self.balance
            self.spends.append({"key": key, "action": action, "qty": qty, "refused": True})
            return
        assert cost <= self.balance
        assert (outcome.buckets, outcome.charged) == (expected_buckets, cost)
        self.balance -= cost
        assert outcome.balance_after == self.balance
        self.used[action] = [free_used + f, plan_used + p]
        self.spends.append(
            {"key": key, "action": action, "qty": qty, "buckets": expected_buckets, "charged": cost,
             "cycle": self.cycle, "refunded": False, "refused": False, "tx": outcome.transaction_id}
        )  # fmt: skip

    @precondition(lambda self: self.spends)
    @rule(data=st.data())
    def replay(self, data):
        s = data.draw(st.sampled_from(self.spends))
        try:
            outcome = credits_spend(
                account_id=account_of(self.user), action_type=s["action"], quantity=s["qty"],
                reference=f"ref:{s['key']}", idempotency_key=s["key"], now=self.now,
            )  # fmt: skip
        except InsufficientCredits:
            assert s["refused"]
            return
        assert not s["refused"] and outcome.replayed
        assert (outcome.transaction_id, outcome.charged) == (s["tx"], s["charged"])

    @precondition(lambda self: any(not s["refused"] for s in self.spends))
    @rule(data=st.data())
    def refund(self, data):
        s = data.draw(st.sampled_from([s for s in self.spends if not s["refused"]]))
        try:
            tx = credits_refund(
                account_id=account_of(self.user),
                spend_idempotency_key=s["key"],
                reason="test",
                idempotency_key=self._key("r"),
            )
        except AlreadyRefunded:
            assert s["refunded"]
            return
        assert not s["refunded"]
        s["refunded"] = True
        self.balance += s["charged"]
        assert tx.amount == s["charged"]
        if s["cycle"] == self.cycle:
            self.used[s["action"]][0] -= s["buckets"].count("free")
            self.used[s["action"]][1] -= s["buckets"].count("plan_quota")

    @rule(amount=st.integers(1, 300))
    def grant(self, amount):
        credits_grant(account_id=account_of(self.user), amount=amount, reason="test", idempotency_key=self._key("g"))
        self.balance += amount

    @rule(amount=st.integers(-300, 300).filter(bool))
    def adjust(self, amount):
        try:
            wallet_adjust(wallet=self.wallet, amount=amount, reason="test", actor=self.staff)
        except InvalidAmount:
            assert self.balance + amount < 0
            return
        assert self.balance + amount >= 0
        self.balance += amount

    @rule()
    def reset(self):
        wallet = Wallet.objects.get(pk=self.wallet.pk)
        self.now = wallet.cycle_end + timedelta(minutes=1)
        assert cycle_renew(wallet=wallet, now=self.now) is True
        assert cycle_renew(wallet=wallet, now=self.now) is False
        self.cycle += 1
        self.used = {a: [0, 0] for a in ACTIONS}

    @invariant()
    def ledger_matches(self):
        if not hasattr(self, "user"):
            return
        wallet = Wallet.objects.get(pk=self.wallet.pk)
        assert wallet.balance == self.balance >= 0
        assert wallet.balance == wallet.lifetime_earned - wallet.lifetime_spent
        rows = list(CreditTransaction.objects.filter(wallet=wallet).order_by("id").values_list(
            "amount", "balance_before", "balance_after"))  # fmt: skip
        assert sum(r[0] for r in rows) == wallet.balance
        previous = 0
        for amount, before, after in rows:
            assert before == previous and after == before + amount >= 0
            previous = after
        for usage in QuotaUsage.objects.filter(wallet=wallet, cycle_start=wallet.cycle_start):
            _, free, quota = ACTIONS[usage.action_type]
            assert 0 <= usage.free_used <= free and 0 <= usage.plan_used <= quota
            assert [usage.free_used, usage.plan_used] == self.used[usage.action_type]


@pytest.mark.django_db
def test_ledger_state_machine():
    # The seeded prices are what the model above assumes.
    assert {
        r.action_type: (r.credits_per_unit, r.free_uses_per_month)
        for r in PricingRule.objects.filter(action_type__in=ACTIONS)
    } == {a: v[:2] for a, v in ACTIONS.items()}
    LedgerMachine.TestCase.settings = settings(
        max_examples=30, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
    )
    LedgerMachine.TestCase().runTest()
