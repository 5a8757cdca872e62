"""Issue 15 #3 and #8: no free scraping through refunds, and a joined job stays visible.

- a username found missing or private is remembered (``UNLOCK_UNAVAILABLE_REMEMBER_SECONDS``):
  unlocking it again is a clear 404 ``creator_unavailable``, with no charge and no new scrape;
- concurrent unlocks of one username make one job, and whatever the interleaving with the
  job's failure, every charge is refunded and no access is left behind (threads, PostgreSQL);
- an unlock that joins another user's running job can read that job (and its events).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection, connections
from rest_framework.test import APIClient

from analysis import services as analysis_services
from analysis import unlocks
from analysis.models import AnalysisJob
from credits.models import CreditTransaction, QuotaUsage
from credits.services import credits_grant, wallet_get_or_create
from profiles.models import TeamProfileAccess
from tests.factories import UserFactory, account_of

UNLOCK = "/api/v1/search/creator/{}/unlock"
BALANCE = "/api/v1/credits/balance"

pg_only = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLITE: needs PostgreSQL row locks (run with DATABASE_URL=postgres://...)"
)


def _paying(user, credits: int = 100, key: str = "topup") -> None:
    """No plan quota left: unlocks are paid in credits (25 each)."""
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    QuotaUsage.objects.update_or_create(
        wallet=wallet,
        cycle_start=wallet.cycle_start,
        action_type="influencer_unlock",
        defaults={"plan_used": 5, "free_used": 5},
    )
    if credits:
        credits_grant(account_id=account_of(user), amount=credits, reason="test top-up", idempotency_key=key)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_a_missing_account_is_remembered_no_second_charge_or_scrape(
    api_client, user, pipeline_settings, django_capture_on_commit_callbacks
):
    _paying(user)
    with django_capture_on_commit_callbacks(execute=True):
        first = api_client.post(UNLOCK.format("no_such_creator_m"))
    assert first.status_code == 202
    assert AnalysisJob.objects.get().error_category == "not_found"

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            again = api_client.post(UNLOCK.format("no_such_creator_m"))
        assert again.status_code == 404, again.content
        error = again.json()["error"]
        assert error["code"] == "creator_unavailable" and error["details"]["reason"] == "not_found"
        assert "nothing was charged" in error["message"]
    assert AnalysisJob.objects.count() == 1  # no new scrape
    assert CreditTransaction.objects.filter(kind="spend").count() == 1
    assert api_client.get(BALANCE).json()["balance"] == 100
    assert not TeamProfileAccess.objects.exists()


@pytest.mark.django_db
def test_the_refusal_comes_before_the_credit_check(user, other_user, pipeline_settings):
    """A broke user gets the clear answer (404), not 402: there is nothing to buy."""
    analysis_services.job_fail(
        job_id=AnalysisJob.objects.create(username="gone_private", requested_by=user, team_id=account_of(user)).pk,
        stage="scrape",
        category="private",
        detail="private account",
    )
    _paying(other_user, credits=0)
    response = _client(other_user).post(UNLOCK.format("gone_private"))
    assert response.status_code == 404 and response.json()["error"]["details"]["reason"] == "private"


@pytest.mark.django_db
def test_memory_ends_after_the_setting(api_client, user, pipeline_settings, django_capture_on_commit_callbacks):
    _paying(user)
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(UNLOCK.format("no_such_creator_t"))
    pipeline_settings.UNLOCK_UNAVAILABLE_REMEMBER_SECONDS = 1
    AnalysisJob.objects.update(finished_at=AnalysisJob.objects.get().finished_at.replace(year=2020))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(UNLOCK.format("no_such_creator_t"))
    assert response.status_code == 202  # checked again (and refunded again)
    assert AnalysisJob.objects.count() == 2
    assert api_client.get(BALANCE).json()["balance"] == 100


@pytest.mark.django_db
def test_a_joined_job_is_shown_and_readable(api_client, user, other_user, pipeline_settings):
    """Before: the joiner's 202 carried the job, and GET /analysis/jobs/{id} answered 404."""
    _paying(user)
    _paying(other_user, key="topup-2")
    first = api_client.post(UNLOCK.format("humansofny"))  # on-commit hooks not run: the job stays queued
    joiner = _client(other_user)
    joined = joiner.post(UNLOCK.format("humansofny"))
    assert joined.status_code == 202
    job_id = joined.json()["job"]["id"]
    assert job_id == first.json()["job"]["id"]
    assert joiner.get(f"/api/v1/analysis/jobs/{job_id}").status_code == 200
    search = joiner.get("/api/v1/search/creator/humansofny")
    if search.status_code == 200 and not search.json().get("locked"):
        assert search.json()["job"]["id"] == job_id
    # someone who did not unlock still cannot see it
    stranger = _client(UserFactory())
    assert stranger.get(f"/api/v1/analysis/jobs/{job_id}").status_code == 404
    assert stranger.get(f"/api/v1/analysis/jobs/{job_id}/events").status_code == 404


def _run_threads(targets) -> list:
    errors: list = []

    def wrap(fn):
        def run():
            close_old_connections()
            try:
                fn()
            except Exception as exc:  # surfaced by the assertion below
                errors.append(exc)
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pg_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_unlocks_make_one_job_and_every_charge_comes_back(pipeline_settings):
    users = [UserFactory() for _ in range(6)]
    for index, user in enumerate(users):
        _paying(user, key=f"topup-{index}")
    barrier = threading.Barrier(len(users))
    statuses: list[int] = []

    def unlock(user):
        def run():
            client = _client(user)
            barrier.wait()
            statuses.append(client.post(UNLOCK.format("no_such_creator_c")).status_code)

        return run

    assert _run_threads([unlock(user) for user in users]) == []
    assert sorted(set(statuses)) <= [202, 404] and 202 in statuses
    assert AnalysisJob.objects.filter(username="no_such_creator_c").count() == 1
    spends = CreditTransaction.objects.filter(kind="spend", reference="profile:no_such_creator_c")
    assert spends.count() == statuses.count(202)
    assert CreditTransaction.objects.filter(kind="refund", refund_of__in=spends).count() == spends.count()
    for user in users:
        assert _client(user).get(BALANCE).json()["balance"] == 100
    assert not TeamProfileAccess.objects.exists()


@pg_only
@pytest.mark.django_db(transaction=True)
def test_a_job_failing_while_an_unlock_joins_it_refunds_that_unlock(pipeline_settings, monkeypatch):
    """The job fails between the joiner's join and its commit: before the fix the refund ran
    before the joiner's charge was committed, and the joiner kept the charge and the access."""
    owner, joiner = UserFactory(), UserFactory()
    _paying(owner, key="topup-o")
    _paying(joiner, key="topup-j")
    job = AnalysisJob.objects.create(username="no_such_creator_r", requested_by=owner, team_id=account_of(owner))
    joined = threading.Event()
    real_join = unlocks.unlock_job_join

    def slow_join(**kwargs):
        found = real_join(**kwargs)
        joined.set()
        time.sleep(0.5)  # the job fails now, while this unlock has not committed
        return found

    monkeypatch.setattr(unlocks, "unlock_job_join", slow_join)
    answers: list[int] = []

    def unlock():
        answers.append(_client(joiner).post(UNLOCK.format("no_such_creator_r")).status_code)

    def fail():
        assert joined.wait(10)
        analysis_services.job_fail(job_id=job.pk, stage="scrape", category="not_found", detail="no such account")

    assert _run_threads([unlock, fail]) == []
    assert answers == [202]
    spend = CreditTransaction.objects.get(kind="spend", reference="profile:no_such_creator_r")
    assert CreditTransaction.objects.filter(kind="refund", refund_of=spend).exists()
    assert _client(joiner).get(BALANCE).json()["balance"] == 100
    assert not TeamProfileAccess.objects.filter(team_id=account_of(joiner)).exists()
