"""Teams test fixtures: teams made through ``team_create``, members joined by invitation."""

from __future__ import annotations

import pytest

from teams import selectors, services
from teams.models import Invitation, Membership
from tests.factories import UserFactory


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com")


@pytest.fixture
def team(owner):
    return services.team_create(user=owner, name="Acme Agency")


@pytest.fixture
def set_plan():
    def _set(team, code: str):
        return services.team_plan_set(team=team, plan_code=code, actor=None)

    return _set


@pytest.fixture
def add_member(set_plan):
    """Join ``user`` to ``team`` with ``role`` the way people join: invited, then accepting.

    The team is put on Premium (5 seats) first if it has no free seat.
    """

    def _add(team, user=None, role: str = Membership.Role.MEMBER):
        user = user or UserFactory()
        if selectors.team_seats(team=team).free == 0:
            set_plan(team, "premium")
        owner = selectors.team_owner(team)
        invitation = services.invitation_create(team=team, actor=owner, email=user.email, role=role)
        services.invitation_accept(token=invitation.token, user=user)
        return user

    return _add


@pytest.fixture
def pending(db):
    """A pending invitation written as it was when the team had more seats (no seat check)."""

    def _pending(team, email: str, role: str = Membership.Role.MEMBER, **fields):
        return Invitation.objects.create(
            team=team, email=email.lower(), role=role, invited_by=selectors.team_owner(team), **fields
        )

    return _pending


@pytest.fixture
def spend():
    """Spend for ``team`` as ``actor`` through the credits service (the way every gate does)."""
    from credits.services import credits_spend

    def _spend(team, actor, action_type: str, key: str, quantity: int = 1, now=None):
        return credits_spend(
            **selectors.team_account(team),
            actor=actor,
            action_type=action_type,
            quantity=quantity,
            reference=f"test:{key}",
            idempotency_key=key,
            now=now,
        )

    return _spend


@pytest.fixture
def fund():
    from credits.services import credits_grant

    def _fund(team, amount: int, key: str = "seed-grant"):
        return credits_grant(**selectors.team_account(team), amount=amount, reason="test funding", idempotency_key=key)

    return _fund
