"""Two simultaneous requests for the same discovery page pay once (threads, PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from credits.models import CreditTransaction, Wallet
from credits.services import credits_grant, credits_spend
from tests.factories import UserFactory, account_of


@pytest.mark.django_db(transaction=True)
def test_the_same_page_requested_twice_at_once_is_charged_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite serialises whole writes")
    user = UserFactory()
    for i in range(5):  # the month's free pages
        credits_spend(
            account_id=account_of(user),
            actor=user,
            action_type="discovery_pagination",
            reference=f"earlier:{i}",
            idempotency_key=f"e{i}",
        )
    credits_grant(account_id=account_of(user), amount=20, reason="test", idempotency_key="grant")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def ask() -> None:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            statuses.append(client.get("/api/v1/discovery/browse", {"followers_min": 5}).status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    charged = CreditTransaction.objects.filter(wallet__account_id=account_of(user), kind="spend", amount__lt=0)
    assert [t.amount for t in charged] == [-10]
    assert Wallet.objects.get(account_id=account_of(user)).balance == 10
