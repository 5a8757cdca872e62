"""Schema fuzzing: schemathesis over every operation of the OpenAPI schema, all checks.

Two runs per operation: anonymous, and as a paying user who owns real objects (an unlocked
creator with posts, a finished job, a ready export), whose ids replace the generated path
parameters in half of the cases so the fuzzer reaches the objects' code paths, not only 404s.
Every check of schemathesis runs (no 5xx, status codes, content types, headers and bodies
matching the schema, negative data rejected, ...). The figures (requests, statuses) are
written to ``$SCHEMA_FUZZ_REPORT`` (default: the pytest temporary directory) and printed.

Bounded: ``SCHEMA_FUZZ_EXAMPLES`` examples per operation and run (default 8); the coverage
phase (every boundary case, several minutes) runs with ``SCHEMA_FUZZ_COVERAGE=1``.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken

from config.wsgi import application

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "8"))
COVERAGE_PHASE = os.environ.get("SCHEMA_FUZZ_COVERAGE", "") == "1"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="SQLITE: the fuzzer's objects are committed once for the module (PG)"
    ),
]

_seen: Counter = Counter()
_lock = threading.Lock()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Committed objects the authenticated run can reach; deleted at the end of the module."""
    from analysis.models import AnalysisJob
    from credits.services import credits_grant, wallet_set_plan
    from profiles.models import Export
    from profiles.services.access import access_grant
    from tests.factories import PostFactory, ProfileFactory, UserFactory, account_of, team_of

    with django_db_blocker.unblock():
        _world_delete()  # what an interrupted earlier run may have left
        user = UserFactory(email=WORLD_EMAIL)
        account = account_of(user)
        wallet_set_plan(account_id=account, plan_code="standard")
        credits_grant(account_id=account, amount=1000, reason="fuzz", idempotency_key="fuzz-topup")
        profile = ProfileFactory(username=WORLD_CREATOR, last_scraped_at=timezone.now())
        PostFactory.create_batch(3, profile=profile)
        access_grant(team=team_of(user), profile=profile, granted_by=user)
        job = AnalysisJob.objects.create(
            username=profile.username,
            profile=profile,
            requested_by=user,
            team_id=account,
            status=AnalysisJob.Status.COMPLETED,
            progress=100,
            finished_at=timezone.now(),
        )
        export = Export.objects.create(
            team_id=account, user=user, usernames=[profile.username], format="csv", status=Export.Status.READY, rows=1
        )
        export.file.save(f"{export.pk}.csv", ContentFile(b"username\nfuzz_creator\n"), save=True)
        ids = {
            "username": profile.username,
            "job_id": str(job.pk),
            "export_id": str(export.pk),
            "action_type": "influencer_unlock",
        }
        yield {"token": str(AccessToken.for_user(user)), "ids": ids}
        _world_delete()


WORLD_EMAIL, WORLD_CREATOR = "fuzz-world@example.com", "fuzz_creator"


def _world_delete() -> None:
    """Delete the module's committed objects; the ledger is append-only (protected) for the
    application, so its rows go first, by a raw delete."""
    from accounts.models import User
    from analysis.models import AnalysisJob
    from credits.models import CreditTransaction, SpendRequest
    from profiles.models import Profile

    AnalysisJob.objects.filter(username=WORLD_CREATOR).delete()
    Profile.objects.filter(username=WORLD_CREATOR).delete()
    from credits.models import Wallet
    from teams.models import Team

    users = User.objects.filter(email=WORLD_EMAIL)
    teams = Team.objects.filter(memberships__user__in=users)
    wallets = Wallet.objects.filter(account_id__in=teams.values("pk"))
    SpendRequest.objects.filter(wallet__in=wallets).delete()
    ledger = CreditTransaction.objects.filter(wallet__in=wallets)
    ledger._raw_delete(ledger.db)
    wallets.delete()
    teams.delete()
    users.delete()


@pytest.fixture(autouse=True)
def _keep_the_test_connection(db):
    # The WSGI calls run on the test's connection inside its transaction: Django must not close
    # it at the end of each request (what its own test client also switches off).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


# Every check runs, with two adjustments (README "Reliability and security"):
# - a schema-valid request may still break a business rule the schema cannot express (a weak
#   password, an unknown creator, no credits, a conflict): 400/402/409 count as accepted;
# - negative_data_rejection is on: a query parameter that is not what the schema says (an
#   unparsable or repeated `page_size`, `months`, `quantity`) is refused with 400
#   (`config.api.params`, strict pagination), never read as its default.
_CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "402", "403", "404", "409", "429"]},
        },
        # Time: the coverage phase (every boundary case of every parameter, ~70 requests per
        # operation) would take several minutes; generated examples and the schema's own run.
        "phases": {"coverage": {"enabled": COVERAGE_PHASE}},
    }
)


def _load_schema():
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)), config=_CONFIG)
    loaded.app = application
    # The health probes take no input and run their checks on threads of their own, which
    # pytest-django keeps away from the test database (503 here): tests/config/test_health.py.
    # The billing operations read or call Stripe and answer 503 without it (no Stripe here, by
    # design; tests/billing runs them against a local server answering like Stripe).
    return loaded.exclude(path_regex=r"^/api/health").exclude(path_regex=r"^/api/v1/billing/")


schema = _load_schema()
_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _record(run: str, case, response) -> None:
    with _lock:
        _seen[(run, response.status_code)] += 1


def _isolated(call):
    """Run one request (or a check's requests) in a savepoint rolled back afterwards: in
    production every request has its own transaction, here they share the test's, and one
    request's refused statement (answered 400) must not abort it for the next."""
    savepoint = transaction.savepoint()
    try:
        return call()
    finally:
        transaction.savepoint_rollback(savepoint)


def _real_ids(case, ids: dict[str, str]) -> None:
    """Half of the cases (by their content) aim at the user's real objects."""
    params = case.path_parameters or {}
    if params and hash(json.dumps(params, sort_keys=True, default=str)) % 2 == 0:
        for name in params:
            if name in ids:
                params[name] = ids[name]


@schema.parametrize()
@_settings
def test_anonymous(case):
    response = _isolated(case.call)
    _record("anonymous", case, response)
    _isolated(lambda: case.validate_response(response))
    assert response.status_code < 500


@schema.parametrize()
@_settings
def test_authenticated(case, world):
    _real_ids(case, world["ids"])
    headers = {"Authorization": f"Bearer {world['token']}"}
    response = _isolated(lambda: case.call(headers=headers))
    _record("authenticated", case, response)
    _isolated(lambda: case.validate_response(response, headers=headers))
    assert response.status_code < 500


def test_report_the_figures(tmp_path_factory):
    """Runs last in the module (file order): the fuzzer's counts, for the README."""
    if not _seen:
        pytest.skip("the fuzz tests did not run")
    statuses = Counter()
    for (_run, status), count in _seen.items():
        statuses[status] += count
    report = {
        "requests": sum(_seen.values()),
        "by_run": {run: sum(c for (r, _), c in _seen.items() if r == run) for run in ("anonymous", "authenticated")},
        "statuses": dict(sorted(statuses.items())),
        "5xx": sum(c for s, c in statuses.items() if s >= 500),
        "examples_per_operation": EXAMPLES,
    }
    target = Path(os.environ.get("SCHEMA_FUZZ_REPORT") or tmp_path_factory.mktemp("fuzz") / "schema_fuzz.json")
    target.write_text(json.dumps(report, indent=2))
    print(f"\nschema fuzz: {json.dumps(report)} -> {target}")
    assert report["5xx"] == 0
