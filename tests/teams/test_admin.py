"""Team admin: members and pending invitations inline, plan/seats/balance, search, actions."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from teams import selectors, services
from teams.models import Membership
from tests.factories import UserFactory, team_of

pytestmark = pytest.mark.django_db

TEAMS = "/admin/teams/team/"


@pytest.fixture
def admin_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_change_page_shows_members_pending_invitations_plan_seats_and_balance(
    admin_client, team, owner, set_plan, fund
):
    set_plan(team, "standard")
    fund(team, 1234)
    services.invitation_create(team=team, actor=owner, email="pending.person@example.com")
    page = admin_client.get(f"{TEAMS}{team.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert owner.email in html
    assert "pending.person@example.com" in html
    assert "Standard" in html
    assert "2 / 2" in html  # seats used / seats
    assert "1234" in html
    listing = admin_client.get(TEAMS)
    assert listing.status_code == 200 and "2 / 2" in listing.content.decode()


def test_search_by_team_name_and_member_email(admin_client, team, owner, add_member):
    member = add_member(team, user=UserFactory(email="findme@example.com"))
    other = services.team_create(user=UserFactory(), name="Unrelated Studio")
    by_email = admin_client.get(TEAMS, {"q": "findme@"})
    assert by_email.status_code == 200
    # the team they joined and their personal team
    assert set(by_email.context["cl"].result_list) == {team, team_of(member)}
    by_name = admin_client.get(TEAMS, {"q": "Unrelated"})
    assert list(by_name.context["cl"].result_list) == [other]


def test_change_plan_action_is_a_staff_grant(admin_client, team):
    form = admin_client.post(TEAMS, {"action": "change_plan", ACTION_CHECKBOX_NAME: [str(team.pk)]})
    assert form.status_code == 200 and b"Set plan" in form.content
    done = admin_client.post(
        TEAMS, {"action": "change_plan", ACTION_CHECKBOX_NAME: [str(team.pk)], "apply": "1", "plan": "premium"}
    )
    assert done.status_code == 302
    assert selectors.team_plan(team).code == "premium"
    assert selectors.team_seats(team=team).seats == 5


def test_transfer_ownership_action(admin_client, team, owner, add_member):
    member = add_member(team)
    payload = {"action": "transfer_ownership", ACTION_CHECKBOX_NAME: [str(team.pk)]}
    form = admin_client.post(TEAMS, payload)
    assert form.status_code == 200 and b"Transfer ownership" in form.content
    not_member = admin_client.post(TEAMS, {**payload, "apply": "1", "new_owner_email": "stranger@example.com"})
    assert not_member.status_code == 302
    assert Membership.objects.get(team=team, user=owner).role == "owner"
    done = admin_client.post(TEAMS, {**payload, "apply": "1", "new_owner_email": member.email.upper()})
    assert done.status_code == 302
    roles = dict(Membership.objects.filter(team=team).values_list("user_id", "role"))
    assert roles == {owner.pk: "admin", member.pk: "owner"}
