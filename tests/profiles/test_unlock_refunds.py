"""An unlock of a creator that turns out not to exist is refunded and its access withdrawn."""

from __future__ import annotations

import pytest

from analysis.models import AnalysisJob
from credits.models import CreditTransaction, QuotaUsage
from credits.services import credits_grant, wallet_get_or_create
from profiles.models import TeamProfileAccess
from tests.factories import account_of, team_of

pytestmark = pytest.mark.django_db

UNLOCK = "/api/v1/search/creator/{}/unlock"


def _use_up_plan_quota(user) -> None:
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    QuotaUsage.objects.update_or_create(
        wallet=wallet, cycle_start=wallet.cycle_start, action_type="influencer_unlock", defaults={"plan_used": 5}
    )
    credits_grant(account_id=account_of(user), amount=100, reason="test top-up", idempotency_key="topup-1")


def _unlock_and_run(client, username, capture):
    with capture(execute=True):
        response = client.post(UNLOCK.format(username))
    assert response.status_code == 202, response.content
    return AnalysisJob.objects.get(pk=response.json()["job"]["id"])


def test_unlock_of_a_missing_account_is_refunded(
    api_client, user, pipeline_settings, django_capture_on_commit_callbacks
):
    _use_up_plan_quota(user)
    job = _unlock_and_run(api_client, "no_such_creator_x", django_capture_on_commit_callbacks)
    assert job.status == "failed" and job.error_category == "not_found"

    spend = CreditTransaction.objects.get(kind="spend", reference="profile:no_such_creator_x")
    assert spend.amount == -25
    refund = CreditTransaction.objects.get(kind="refund", refund_of=spend)
    assert refund.amount == 25 and refund.balance_after == 100 and "not_found" in refund.reason
    assert not TeamProfileAccess.objects.filter(team=team_of(user)).exists()
    assert api_client.get("/api/v1/credits/balance").json()["balance"] == 100


def test_plan_quota_use_comes_back_too(api_client, user, pipeline_settings, django_capture_on_commit_callbacks):
    wallet, _ = wallet_get_or_create(account_id=account_of(user))
    job = _unlock_and_run(api_client, "no_such_creator_y", django_capture_on_commit_callbacks)
    assert job.error_category == "not_found"
    refund = CreditTransaction.objects.get(kind="refund")
    assert refund.amount == 0 and refund.buckets and set(refund.buckets) <= {"free", "plan_quota"}
    usage = QuotaUsage.objects.get(wallet=wallet, action_type="influencer_unlock")
    assert usage.free_used + usage.plan_used == 0


def test_successful_unlock_is_not_refunded(api_client, user, pipeline_settings, django_capture_on_commit_callbacks):
    _use_up_plan_quota(user)
    job = _unlock_and_run(api_client, "humansofny", django_capture_on_commit_callbacks)
    assert job.status == "completed"
    assert not CreditTransaction.objects.filter(kind="refund").exists()
    assert TeamProfileAccess.objects.filter(team=team_of(user)).exists()


@pytest.mark.parametrize("category", ["provider_error", "transient", "timeout", "internal"])
def test_any_failed_job_refunds_its_unlocks_and_a_new_unlock_is_a_new_purchase(
    api_client, user, pipeline_settings, django_capture_on_commit_callbacks, category
):
    """A charge happens only when the action succeeded: not only for missing or private accounts."""
    from analysis import services as analysis_services

    _use_up_plan_quota(user)
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post(UNLOCK.format("humansofny"))
    assert response.json()["credits"]["charged"] == 25
    job_id = response.json()["job"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        analysis_services.job_fail(job_id=job_id, stage="scrape", category=category, detail="it broke")

    refund = CreditTransaction.objects.get(kind="refund")
    assert refund.amount == 25 and category in refund.reason
    assert not TeamProfileAccess.objects.filter(team=team_of(user)).exists()
    assert api_client.get("/api/v1/credits/balance").json()["balance"] == 100
    # Not remembered as unavailable: unlocking again starts a new job and pays again.
    with django_capture_on_commit_callbacks(execute=True):
        again = api_client.post(UNLOCK.format("humansofny"))
    assert again.status_code == 202 and again.json()["credits"]["charged"] == 25
    assert again.json()["job"]["id"] != job_id
    assert AnalysisJob.objects.get(pk=again.json()["job"]["id"]).status == "completed"
    assert api_client.get("/api/v1/credits/balance").json()["balance"] == 75


def test_unlocking_again_after_a_refund_is_a_new_purchase_once_forgotten(
    api_client, user, pipeline_settings, django_capture_on_commit_callbacks
):
    pipeline_settings.UNLOCK_UNAVAILABLE_REMEMBER_SECONDS = 0  # never remembered
    _use_up_plan_quota(user)
    _unlock_and_run(api_client, "no_such_creator_w", django_capture_on_commit_callbacks)
    assert api_client.get("/api/v1/credits/balance").json()["balance"] == 100
    # the creator still does not exist: charged again, refunded again, never free
    job = _unlock_and_run(api_client, "no_such_creator_w", django_capture_on_commit_callbacks)
    assert job.error_category == "not_found"
    spends = CreditTransaction.objects.filter(kind="spend", reference="profile:no_such_creator_w")
    assert spends.count() == 2 and CreditTransaction.objects.filter(kind="refund").count() == 2
    assert api_client.get("/api/v1/credits/balance").json()["balance"] == 100
