"""Seats under concurrent acceptances and invitations (PostgreSQL only).

A Standard team (2 seats) with its owner has one free seat. Invitations written before a
downgrade (when the team had more seats) can be far more than the seats; acceptances and
new invitations then race for the one seat. The team row lock in the services must let
exactly one of them through. SQLite has no row locks, so these tests are skipped there.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import close_old_connections, connection, connections

from config.errors import ApplicationError
from teams import selectors, services
from teams.models import Invitation, Membership
from tests.factories import UserFactory

N = 20

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLITE: needs PostgreSQL row locks (run with DATABASE_URL=postgres://...)",
    ),
]


def _race(calls: list[Callable[[], object]]) -> list[str]:
    """Run every call in its own thread, all released at once; 'ok' or the error code, in call order."""
    results: list[str | None] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def worker(index: int, call: Callable[[], object]) -> None:
        close_old_connections()
        try:
            barrier.wait()
            try:
                call()
                outcome = "ok"
            except ApplicationError as exc:
                outcome = exc.code
            results[index] = outcome
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert None not in results, "a thread died without an outcome"
    return results  # type: ignore[return-value]


@pytest.fixture
def standard_team(set_plan):
    owner = UserFactory(email="owner@example.com")
    team = services.team_create(user=owner, name="Race Team")
    set_plan(team, "standard")
    return team, owner


def _old_invitations(team, owner, n: int) -> list[tuple[Invitation, object]]:
    """``n`` pending invitations written when the plan had more seats, and their invitees."""
    pairs = []
    for i in range(n):
        user = UserFactory(email=f"invitee{i}@example.com")
        invitation = Invitation.objects.create(team=team, email=user.email, invited_by=owner)
        pairs.append((invitation, user))
    return pairs


def test_acceptances_and_invitations_race_for_one_seat(standard_team):
    team, owner = standard_team
    pairs = _old_invitations(team, owner, N)
    accepts = [lambda inv=inv, user=user: services.invitation_accept(token=inv.token, user=user) for inv, user in pairs]
    creates = [
        lambda i=i: services.invitation_create(team=team, actor=owner, email=f"new{i}@example.com") for i in range(N)
    ]
    calls = [c for pair in zip(accepts, creates, strict=True) for c in pair]  # interleaved

    results = _race(calls)

    accept_results = Counter(results[0::2])
    create_results = Counter(results[1::2])
    assert accept_results == {"ok": 1, "seats_exhausted": N - 1}
    assert create_results == {"seats_exhausted": N}
    seats = selectors.team_seats(team=team)
    assert (seats.seats, seats.members) == (2, 2)
    assert Membership.objects.filter(team=team).count() == 2
    assert Invitation.objects.filter(team=team, status=Invitation.Status.ACCEPTED).count() == 1
    assert not Invitation.objects.filter(team=team, email__startswith="new").exists()


def test_concurrent_acceptances_exactly_one_wins(standard_team):
    team, owner = standard_team
    pairs = _old_invitations(team, owner, N)

    results = _race(
        [lambda inv=inv, user=user: services.invitation_accept(token=inv.token, user=user) for inv, user in pairs]
    )

    assert Counter(results) == {"ok": 1, "seats_exhausted": N - 1}
    assert Membership.objects.filter(team=team).count() == 2
    winner = Invitation.objects.get(team=team, status=Invitation.Status.ACCEPTED)
    assert Membership.objects.filter(team=team, user=winner.accepted_by).exists()


def test_concurrent_invitations_never_exceed_the_seats(standard_team):
    team, owner = standard_team

    results = _race(
        [lambda i=i: services.invitation_create(team=team, actor=owner, email=f"new{i}@example.com") for i in range(N)]
    )

    assert Counter(results) == {"ok": 1, "seats_exhausted": N - 1}
    seats = selectors.team_seats(team=team)
    assert (seats.members, seats.pending, seats.seats) == (1, 1, 2)
