"""Credits test fixtures."""

import pytest

from credits.services import credits_grant
from tests.factories import account_of


@pytest.fixture
def fund():
    def _fund(user, amount: int, key: str = "seed-grant"):
        return credits_grant(account_id=account_of(user), amount=amount, reason="test funding", idempotency_key=key)

    return _fund
