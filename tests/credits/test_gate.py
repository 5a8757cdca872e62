"""The credit gate, through test-only views (``tests/credits/gate_urls.py``)."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import close_old_connections, connection, connections
from rest_framework.test import APIClient

from credits.models import CreditTransaction, SpendRequest, Wallet
from credits.services import credits_grant, credits_spend
from tests.credits.gate_urls import access_name
from tests.factories import UserFactory, account_of

pytestmark = pytest.mark.urls("tests.credits.gate_urls")


def use_quota(user, n=5):
    for i in range(n):
        credits_spend(
            account_id=account_of(user), action_type="influencer_unlock", reference=f"q{i}", idempotency_key=f"q{i}"
        )


def balance(user) -> int:
    return Wallet.objects.get(account_id=account_of(user)).balance


@pytest.mark.django_db
def test_unlock_uses_the_quota_then_credits_and_reports_the_outcome(api_client, user, fund):
    use_quota(user, 4)
    fund(user, 30)
    r = api_client.post("/unlock/alice")
    assert r.status_code == 201
    assert r.json() == {
        "unlocked": "alice",
        "credits": {"charged": 0, "buckets": ["plan_quota"], "balance": 30, "replayed": False, "skipped": False},
    }
    r = api_client.post("/unlock/bob")
    assert r.status_code == 201 and r.json()["credits"]["charged"] == 25 and r.json()["credits"]["balance"] == 5
    tx = CreditTransaction.objects.filter(wallet__account_id=account_of(user), reference="profile:bob").get()
    assert (tx.amount, tx.buckets) == (-25, ["credits"])
    assert Group.objects.filter(name=access_name(user, "bob")).exists()


@pytest.mark.django_db
def test_unlocking_an_accessible_creator_costs_nothing(api_client, user, fund):
    use_quota(user)
    fund(user, 25)
    assert api_client.post("/unlock/alice").json()["credits"]["charged"] == 25
    r = api_client.post("/unlock/alice")
    assert r.status_code == 201
    assert r.json()["credits"] == {"charged": 0, "buckets": [], "balance": 0, "replayed": False, "skipped": True}
    assert CreditTransaction.objects.filter(wallet__account_id=account_of(user), reference="profile:alice").count() == 1


@pytest.mark.django_db
def test_402_before_the_view_runs(api_client, user, fund):
    use_quota(user)
    fund(user, 10)
    r = api_client.post("/unlock/alice")
    assert r.status_code == 402
    assert r.json()["error"]["code"] == "insufficient_credits"
    assert r.json()["error"]["details"] == {
        "action_type": "influencer_unlock",
        "quantity": 1,
        "price": 25,
        "balance": 10,
        "missing": 15,
    }
    assert not Group.objects.filter(name=access_name(user, "alice")).exists()
    # A gate refusal is not recorded: after a top-up the same unlock goes through.
    fund(user, 15, key="topup")
    assert api_client.post("/unlock/alice").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["fail", "raise"])
def test_a_failed_action_is_not_charged_and_its_writes_roll_back(user, fund, mode):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    use_quota(user)
    fund(user, 100)
    r = client.post(f"/unlock/alice?mode={mode}")
    assert r.status_code == (503 if mode == "fail" else 500)
    assert balance(user) == 100
    assert not CreditTransaction.objects.filter(wallet__account_id=account_of(user), reference="profile:alice").exists()
    assert not Group.objects.filter(name=access_name(user, "alice")).exists()


@pytest.mark.django_db
def test_a_failed_charge_rolls_the_action_back(api_client, user, fund):
    use_quota(user)
    fund(user, 25)
    r = api_client.post("/unlock/alice?mode=drain")
    assert r.status_code == 402 and r.json()["error"]["details"]["missing"] == 1
    assert balance(user) == 25
    assert not Group.objects.filter(name=access_name(user, "alice")).exists()
    assert not SpendRequest.objects.filter(wallet__account_id=account_of(user), idempotency_key="drain").exists()


@pytest.mark.django_db
def test_repeated_call_in_a_cycle_is_charged_once_and_quantity_is_honoured(api_client, user, fund):
    fund(user, 100)
    first = api_client.post("/search", {"q": "cats", "pages": 12})
    assert first.status_code == 200
    assert first.json()["credits"]["buckets"] == ["free"] * 10 + ["credits"] * 2
    assert first.json()["credits"]["charged"] == 30
    again = api_client.post("/search", {"q": "cats", "pages": 12})
    assert again.json()["credits"] == {"charged": 0, "buckets": [], "balance": 70, "replayed": True, "skipped": False}
    other = api_client.post("/search", {"q": "dogs"}, headers={"Idempotency-Key": "abc"})
    assert other.json()["credits"]["charged"] == 15
    same_key = api_client.post("/search", {"q": "dogs"}, headers={"Idempotency-Key": "abc"})
    assert same_key.json()["credits"]["replayed"] is True
    conflict = api_client.post("/search", {"q": "birds"}, headers={"Idempotency-Key": "abc"})
    assert conflict.status_code == 409
    assert balance(user) == 55


@pytest.mark.django_db
def test_anonymous_calls_are_refused(anon_client):
    assert anon_client.post("/unlock/alice").status_code in (401, 403)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLITE: needs PostgreSQL row locks")
@pytest.mark.parametrize("path", ["/unlock/alice", "/search"])
def test_two_concurrent_unlocks_of_one_creator_charge_once(path):
    user = UserFactory()
    use_quota(user)
    credits_grant(account_id=account_of(user), amount=100, reason="test", idempotency_key="g")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def call():
        close_old_connections()
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait()
            statuses.append(client.post(path, {"q": "same"}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) in ([200, 200], [201, 201])
    reference = "profile:alice" if "unlock" in path else "search:same"
    spends = CreditTransaction.objects.filter(wallet__account_id=account_of(user), kind="spend", reference=reference)
    assert spends.count() == 1
    # The unlock is paid with credits (quota used up); the search with a free monthly use.
    assert balance(user) == (75 if "unlock" in path else 100)
    assert spends.get().buckets == (["credits"] if "unlock" in path else ["free"])
