"""The ledger under load: 32 threads x 50 spends against one wallet (PostgreSQL only).

SQLite serialises whole-database writes and has no row locks, so these tests are skipped
there (the skip says so); ``make test`` runs them on PostgreSQL.
"""

import itertools
import random
import threading
from collections import defaultdict

import pytest
from django.db import close_old_connections, connection, connections

from credits.errors import InsufficientCredits
from credits.models import CreditTransaction, QuotaUsage, SpendRequest, Wallet
from credits.services import credits_grant, credits_spend
from tests.factories import UserFactory, account_of

THREADS = 32
CALLS = 50

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLITE: needs PostgreSQL row locks (run with DATABASE_URL=postgres://...)",
    ),
]


def _hammer(user, plan: list[list[tuple[str, str]]]) -> list[tuple[str, str, object]]:
    """Run each thread's list of (idempotency_key, reference) spends; collect the outcomes."""
    results: list[tuple[str, str, object]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(plan))

    def worker(calls: list[tuple[str, str]]) -> None:
        close_old_connections()
        try:
            barrier.wait()
            for key, ref in calls:
                try:
                    outcome = credits_spend(
                        account_id=account_of(user), action_type="influencer_unlock", reference=ref, idempotency_key=key
                    )
                    result = ("ok", key, outcome)
                except InsufficientCredits as exc:
                    result = ("refused", key, exc.details)
                with lock:
                    results.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(calls,)) for calls in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _assert_ledger(wallet: Wallet) -> list[CreditTransaction]:
    rows = list(CreditTransaction.objects.filter(wallet=wallet).order_by("id"))
    assert sum(r.amount for r in rows) == wallet.balance
    assert all(r.balance_after >= 0 for r in rows)
    assert all(a.balance_after == b.balance_before for a, b in itertools.pairwise(rows))
    return rows


def _free_user_with_1000_credits():
    user = UserFactory()
    credits_grant(account_id=account_of(user), amount=1000, reason="test top-up", idempotency_key="grant")
    return user


def test_32_threads_x_50_unlocks_charge_exactly_45():
    user = _free_user_with_1000_credits()
    plan = [[(f"t{t}-c{c}", f"profile:{t}-{c}") for c in range(CALLS)] for t in range(THREADS)]
    results = _hammer(user, plan)

    assert len(results) == THREADS * CALLS
    ok = [r for r in results if r[0] == "ok"]
    refused = [r for r in results if r[0] == "refused"]
    assert len(ok) == 45 and len(refused) == THREADS * CALLS - 45
    assert sorted(o.charged for _, _, o in ok) == [0] * 5 + [25] * 40
    assert all(d["missing"] > 0 and d["price"] == 25 for _, _, d in refused)

    wallet = Wallet.objects.get(account_id=account_of(user))
    assert wallet.balance == 0
    spends = [r for r in _assert_ledger(wallet) if r.kind == "spend"]
    assert len(spends) == 45
    # The quota pays first: the five quota-paid unlocks are the first five spends.
    assert [r.buckets for r in spends[:5]] == [["plan_quota"]] * 5
    assert all(r.buckets == ["credits"] and r.amount == -25 for r in spends[5:])
    usage = QuotaUsage.objects.get(wallet=wallet, action_type="influencer_unlock")
    assert (usage.free_used, usage.plan_used) == (0, 5)
    assert SpendRequest.objects.filter(wallet=wallet, outcome="refused").count() == THREADS * CALLS - 45


def test_repeated_idempotency_keys_get_exactly_one_outcome_each():
    user = _free_user_with_1000_credits()
    rng = random.Random(7)
    originals = [(f"t{t}-c{c}", f"profile:{t}-{c}") for t in range(THREADS) for c in range(CALLS)]
    # 10% of the calls repeat the key (and reference) of another call, possibly concurrent.
    calls = list(originals)
    for i in rng.sample(range(len(calls)), len(calls) // 10):
        calls[i] = originals[rng.randrange(len(originals))]
    rng.shuffle(calls)
    plan = [calls[t * CALLS : (t + 1) * CALLS] for t in range(THREADS)]
    results = _hammer(user, plan)

    by_key: dict[str, set] = defaultdict(set)
    for status, key, payload in results:
        by_key[key].add(("ok", payload.transaction_id, payload.charged) if status == "ok" else ("refused",))
    assert all(len(outcomes) == 1 for outcomes in by_key.values()), "a key got two different outcomes"
    charged_keys = [k for k, o in by_key.items() if next(iter(o))[0] == "ok"]
    assert len(charged_keys) == 45

    wallet = Wallet.objects.get(account_id=account_of(user))
    spends = [r for r in _assert_ledger(wallet) if r.kind == "spend"]
    assert len(spends) == 45 and wallet.balance == 0
    assert sorted(r.idempotency_key for r in spends) == sorted(charged_keys)
    assert SpendRequest.objects.filter(wallet=wallet).count() == len(by_key)
