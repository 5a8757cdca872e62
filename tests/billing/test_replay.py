"""Replay: 50 events for 10 teams, each delivered 3 times in shuffled order from 8 threads.

PostgreSQL only (row locks and concurrent transactions). A delivery that fails (two
deliveries racing on one of dj-stripe's rows) answers 500 and is delivered again, as
Stripe does; every team must end with exactly the expected plan, balance and ledger.
"""

from __future__ import annotations

import queue
import random
import threading

import pytest
from django.conf import settings
from django.core import mail

from billing.catalog import catalog_sync
from billing.models import BillingAccount, PaidInvoice, StripeEventReaction, TopUpPurchase
from billing.services import checkout_subscription_start, checkout_topup_start, webhook_endpoint_setup
from credits.models import CreditTransaction
from tests.billing.conftest import deliver, make_team, wallet_of
from tests.threads import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL row locks and threads"
    ),
]


def _deliver_all(endpoint, events: list[dict], *, copies: int = 3, threads: int = 8) -> dict:
    work: queue.Queue = queue.Queue()
    deliveries = [e for e in events for _ in range(copies)]
    random.Random(12).shuffle(deliveries)
    for event in deliveries:
        work.put((event, 1))
    stats = {"ok": 0, "retried": 0, "gave_up": 0}
    lock = threading.Lock()

    def worker():
        while True:
            try:
                event, attempt = work.get_nowait()
            except queue.Empty:
                return
            status = deliver(endpoint, event).status_code
            with lock:
                if status == 200:
                    stats["ok"] += 1
                elif attempt < 6:
                    stats["retried"] += 1
                    work.put((event, attempt + 1))
                else:
                    stats["gave_up"] += 1

    errors = run_together(worker, threads, timeout=600)  # each closes its connections
    assert errors == []
    return stats


def test_fifty_events_three_times_from_eight_threads(fake_stripe):
    fake = fake_stripe
    catalog_sync()
    endpoint = webhook_endpoint_setup(base_url="https://api.example.test")
    teams = [make_team(name=f"Team{i}") for i in range(10)]
    events: list[dict] = []
    topups, subs = {}, {}

    for team in teams[:4] + teams[9:]:  # top-ups; team 9's is refunded
        session = checkout_topup_start(team=team, package_code="starter")
        topups[team.pk] = fake.pay_checkout(session["id"])
    for team in teams[4:9]:  # Standard monthly; team 8's renewal fails
        session = checkout_subscription_start(team=team, plan_code="standard", interval="month")
        subs[team.pk] = fake.pay_checkout(session["id"])
    renewals = {t.pk: fake.renew(subs[t.pk]["subscription"]["id"]) for t in teams[4:8]}
    failed = fake.renew(subs[teams[8].pk]["subscription"]["id"], paid=False)
    fake.refund(topups[teams[9].pk]["charge"]["id"])

    for team in teams[:4] + teams[9:]:
        sid = topups[team.pk]["session"]["id"]
        events += [fake.event("checkout.session.completed", sid) for _ in range(2)]
        events.append(fake.event("checkout.session.async_payment_succeeded", sid))
    events += [fake.event("charge.refunded", topups[teams[9].pk]["charge"]["id"]) for _ in range(2)]
    for team in teams[4:9]:
        paid = subs[team.pk]
        sub_id = paid["subscription"]["id"]
        events += [
            fake.event("checkout.session.completed", paid["session"]["id"]),
            fake.event("customer.subscription.created", sub_id),
            fake.event("invoice.paid", paid["invoice"]["id"]),
            fake.event("customer.subscription.updated", sub_id),
        ]
        if team.pk in renewals:
            events += [fake.event("invoice.paid", renewals[team.pk]["id"]) for _ in range(2)]
    events += [fake.event("invoice.payment_failed", failed["id"]) for _ in range(2)]
    events.append(fake.event("customer.subscription.updated", subs[teams[8].pk]["subscription"]["id"]))
    events += [fake.event("customer.subscription.updated", subs[t.pk]["subscription"]["id"]) for t in teams[4:6]]
    assert len(events) == 50
    mail.outbox.clear()

    stats = _deliver_all(endpoint, events)
    assert stats["gave_up"] == 0 and stats["ok"] == 150, stats

    for team in teams[:4]:
        wallet = wallet_of(team)
        assert (wallet.plan.code, wallet.balance) == ("free", 1000)
        assert list(CreditTransaction.objects.filter(wallet=wallet).values_list("kind", "amount")) == [("earn", 1000)]
    for team in teams[4:8]:
        wallet = wallet_of(team)
        assert (wallet.plan.code, wallet.balance) == ("standard", 0)
        assert PaidInvoice.objects.filter(team=team).count() == 2
        assert int(wallet.cycle_start.timestamp()) == renewals[team.pk]["lines"]["data"][0]["period"]["start"]
        assert not CreditTransaction.objects.filter(wallet=wallet).exists()
    account = BillingAccount.objects.get(team=teams[8])
    assert (account.status, account.plan_code, wallet_of(teams[8]).plan.code) == ("past_due", "standard", "standard")
    assert PaidInvoice.objects.filter(team=teams[8]).count() == 1
    assert len(mail.outbox) == 2  # one per payment_failed event id, not per delivery
    refunded = wallet_of(teams[9])
    assert refunded.balance == 0
    assert sorted(CreditTransaction.objects.filter(wallet=refunded).values_list("kind", "amount")) == [
        ("adjustment", -1000),
        ("earn", 1000),
    ]
    assert TopUpPurchase.objects.filter(status="paid").count() == 4
    assert TopUpPurchase.objects.get(team=teams[9]).status == "refunded"
    assert StripeEventReaction.objects.count() == 50
    # each Checkout Session and each invoice credited at most once
    assert CreditTransaction.objects.filter(kind="earn").count() == 5
    assert PaidInvoice.objects.count() == 9
