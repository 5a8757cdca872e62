"""Wallet admin: the adjust-credits action, the read-only ledger and its CSV export."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from credits.models import CreditTransaction, PricingRule, Wallet
from credits.services import wallet_get_or_create
from tests.factories import UserFactory, account_of

pytestmark = pytest.mark.django_db

WALLETS = "/admin/credits/wallet/"
LEDGER = "/admin/credits/credittransaction/"


@pytest.fixture
def admin_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


def adjust(client, wallet, **data):
    payload = {"action": "adjust_credits", ACTION_CHECKBOX_NAME: [str(wallet.pk)], **data}
    return client.post(WALLETS, payload)


def test_wallet_pages_render(admin_client, user, fund):
    fund(user, 40)
    wallet = Wallet.objects.get(account_id=account_of(user))
    assert admin_client.get(WALLETS).status_code == 200
    page = admin_client.get(f"{WALLETS}{wallet.pk}/change/")
    assert page.status_code == 200 and b"test funding" in page.content


def test_adjust_credits_asks_for_amount_and_reason_then_calls_the_service(admin_client, user, fund):
    fund(user, 40)
    wallet = Wallet.objects.get(account_id=account_of(user))
    form = adjust(admin_client, wallet)
    assert form.status_code == 200 and b"Apply adjustment" in form.content
    missing_reason = adjust(admin_client, wallet, apply="1", amount="-10", reason="  ")
    assert missing_reason.status_code == 200 and b"required" in missing_reason.content
    assert Wallet.objects.get(pk=wallet.pk).balance == 40
    done = adjust(admin_client, wallet, apply="1", amount="-10", reason="duplicate top-up")
    assert done.status_code == 302
    tx = CreditTransaction.objects.get(wallet=wallet, kind="adjustment")
    assert (tx.amount, tx.balance_after, tx.reason, tx.actor) == (-10, 30, "duplicate top-up", admin_client.admin)
    too_much = adjust(admin_client, wallet, apply="1", amount="-31", reason="oops")
    assert too_much.status_code == 302
    assert Wallet.objects.get(pk=wallet.pk).balance == 30


def test_balances_cannot_be_edited_in_the_wallet_form(admin_client, user):
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    admin_client.post(f"{WALLETS}{wallet.pk}/change/", {"balance": "5000", "lifetime_earned": "5000"})
    wallet.refresh_from_db()
    assert wallet.balance == 0 and wallet.lifetime_earned == 0


def test_the_ledger_is_read_only_and_never_deletable(admin_client, user, fund):
    tx = fund(user, 40)
    assert admin_client.get(LEDGER).status_code == 200
    assert admin_client.get(f"{LEDGER}{tx.pk}/change/").status_code == 200
    assert admin_client.post(f"{LEDGER}{tx.pk}/change/", {"amount": "999"}).status_code == 403
    assert admin_client.post(f"{LEDGER}{tx.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(LEDGER, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(tx.pk)], "post": "yes"})
    assert CreditTransaction.objects.filter(pk=tx.pk, amount=40).exists()
    assert admin_client.get(f"{LEDGER}add/").status_code == 403


def test_ledger_csv_export(admin_client, user, fund):
    tx = fund(user, 40)
    r = admin_client.post(LEDGER, {"action": "export_csv", ACTION_CHECKBOX_NAME: [str(tx.pk)]})
    assert r.status_code == 200 and r["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert len(rows) == 1
    assert (rows[0]["wallet_account"], rows[0]["kind"], rows[0]["amount"], rows[0]["balance_after"]) == (
        str(account_of(user)),
        "earn",
        "40",
        "40",
    )


def test_pricing_rules_are_editable(admin_client):
    rule = PricingRule.objects.get(action_type="email_unlock")
    page = admin_client.get(f"/admin/credits/pricingrule/{rule.pk}/change/")
    assert page.status_code == 200
    r = admin_client.post(
        f"/admin/credits/pricingrule/{rule.pk}/change/",
        {"action_type": "email_unlock", "credits_per_unit": "2", "free_uses_per_month": "0", "active": "on"},
    )
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.credits_per_unit == 2
