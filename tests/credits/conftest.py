"""Credits test fixtures: the seeded prices (re-seeded if a transactional test flushed them)."""

import importlib

import pytest
from django.apps import apps

from credits.services import credits_grant

_seed = importlib.import_module("credits.migrations.0002_seed_plans_prices")
_beat = importlib.import_module("credits.migrations.0003_beat_renew_cycles")


def seed_prices() -> None:
    """Run the data migrations again (idempotent ``update_or_create``)."""
    _seed.seed(apps, None)
    _beat.schedule(apps, None)


@pytest.fixture(autouse=True)
def _seeded(request):
    # Transactional tests (here or in other apps) truncate every table on teardown, which
    # removes rows created by data migrations; put them back for the test that follows.
    uses_db = {"db", "transactional_db"} & set(request.fixturenames)
    if uses_db or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
        seed_prices()


@pytest.fixture
def fund():
    def _fund(user, amount: int, key: str = "seed-grant"):
        return credits_grant(user=user, amount=amount, reason="test funding", idempotency_key=key)

    return _fund
