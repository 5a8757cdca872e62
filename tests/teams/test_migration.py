"""The data migrations: per-user wallets, ledgers, unlocks, exports and jobs become personal teams'."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("teams", "0001_initial"),
    ("credits", "0003_beat_renew_cycles"),
    ("profiles", "0003_provider_call"),
    ("analysis", "0001_initial"),
]


@pytest.mark.slow
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLITE: rolling the schema back to before teams rebuilds tables whose NOT NULL and "
    "foreign keys SQLite then refuses; the forward data migration is what runs (tested on PostgreSQL)",
)
@pytest.mark.django_db(transaction=True)
def test_old_per_user_data_migrates_to_personal_teams():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User, Plan = old.get_model("accounts", "User"), old.get_model("credits", "Plan")
    Wallet, Tx = old.get_model("credits", "Wallet"), old.get_model("credits", "CreditTransaction")
    Profile, Access = old.get_model("profiles", "Profile"), old.get_model("profiles", "UserProfileAccess")
    Export, Job = old.get_model("profiles", "Export"), old.get_model("analysis", "AnalysisJob")
    now = timezone.now()
    users = [User.objects.create(email=f"old{i}@example.com", password="x", full_name=f"Old {i}") for i in range(2)]
    creator = Profile.objects.create(username="somecreator")
    for i, user in enumerate(users):
        wallet = Wallet.objects.create(
            user=user, balance=100 + i, lifetime_earned=120 + i, lifetime_spent=20,
            plan=Plan.objects.get(code="standard" if i else "free"),
            cycle_anchor=now, cycle_start=now, cycle_end=now + timedelta(days=30),
        )  # fmt: skip
        Tx.objects.create(
            wallet=wallet, kind="spend", amount=-20, balance_before=120 + i, balance_after=100 + i,
            action_type="influencer_unlock", reference="profile:somecreator", idempotency_key=f"k{i}",
        )  # fmt: skip
        Access.objects.create(user=user, profile=creator, granted_at=now, expires_at=now + timedelta(days=30))
        Export.objects.create(id=uuid.uuid4(), user=user, usernames=["somecreator"], format="csv")
        Job.objects.create(id=uuid.uuid4(), username=f"job{i}", requested_by=user, trigger="user", status="completed")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    new = executor.loader.project_state(executor.loader.graph.leaf_nodes()).apps
    Team, Membership = new.get_model("teams", "Team"), new.get_model("teams", "Membership")
    Wallet, Tx = new.get_model("credits", "Wallet"), new.get_model("credits", "CreditTransaction")
    Access, Export = new.get_model("profiles", "TeamProfileAccess"), new.get_model("profiles", "Export")
    Job = new.get_model("analysis", "AnalysisJob")
    for i, user in enumerate(users):
        team = Team.objects.get(created_by_id=user.pk, is_personal=True)
        membership = Membership.objects.get(team=team, user_id=user.pk)
        assert (membership.role, membership.is_default) == ("owner", True)
        wallet = Wallet.objects.get(account_id=team.pk)
        assert (wallet.balance, wallet.lifetime_earned, wallet.lifetime_spent) == (100 + i, 120 + i, 20)
        assert wallet.plan.code == ("standard" if i else "free")
        tx = Tx.objects.get(wallet=wallet)
        assert (tx.amount, tx.balance_after, tx.actor_id) == (-20, 100 + i, user.pk)
        access = Access.objects.get(team=team)
        assert (access.profile.username, access.granted_by_id) == ("somecreator", user.pk)
        assert Export.objects.get(team=team).user_id == user.pk
        assert Job.objects.get(username=f"job{i}").team_id == team.pk
    assert Wallet.objects.count() == 2 and Access.objects.count() == 2
