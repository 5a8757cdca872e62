"""The teams API under /api/v1/teams/: statuses, bodies and the error shape."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from rest_framework.test import APIClient

from teams import services
from teams.models import Invitation, Membership, Team
from tests.factories import UserFactory, team_of

pytestmark = pytest.mark.django_db
BASE = "/api/v1/teams/"
Role = Membership.Role


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- teams -------------------------------------------------------------------------------


def test_create_list_detail_rename(owner):
    client = client_for(owner)
    created = client.post(BASE, {"name": "Brand Team"}, format="json")
    assert created.status_code == 201
    body = created.json()
    team_id = body["team"]["id"]
    assert body["team"]["name"] == "Brand Team"
    assert body["role"] == "owner"
    assert body["owner"]["email"] == owner.email
    assert body["balance"] == 0
    assert body["seats"] == {
        "plan": "free",
        "seats": 1,
        "members": 1,
        "pending_invitations": 0,
        "seats_used": 1,
        "seats_free": 0,
        "over_seat_limit": False,
        "message": "All 1 seat(s) of the Free plan are taken (members and pending invitations).",
    }

    listed = client.get(BASE)
    assert listed.status_code == 200
    personal = team_of(owner)
    assert [(t["team"]["id"], t["team"]["is_personal"], t["is_default"]) for t in listed.json()] == [
        (str(personal.pk), True, True),
        (team_id, False, False),
    ]
    assert listed.json()[1] == {
        "team": body["team"],
        "role": "owner",
        "is_default": False,
        "plan": "free",
        "seats": 1,
        "seats_used": 1,
    }

    renamed = client.patch(f"{BASE}{team_id}", {"name": "New Name"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["team"]["name"] == "New Name"
    assert Team.objects.get(pk=team_id).name == "New Name"

    assert client.get(f"{BASE}{team_id}").json()["team"]["name"] == "New Name"


def test_create_refuses_an_empty_name(owner):
    error = _error(client_for(owner).post(BASE, {"name": "  "}, format="json"), 400, "invalid")
    assert "name" in error["details"]


@pytest.mark.parametrize("name", [0, 12.5, True, ["Acme"], {"name": "Acme"}])
def test_a_name_that_is_not_a_string_is_a_field_error(owner, name):
    """DRF's CharField would store 0 as the team "0"; a JSON number is a client mistake."""
    error = _error(client_for(owner).post(BASE, {"name": name}, format="json"), 400, "invalid")
    assert "name" in error["details"]
    assert not Team.objects.filter(is_personal=False).exists()


@pytest.mark.parametrize("email", ["x@localhost", "someone@intranet", "a@b"])
def test_an_invitation_to_an_undeliverable_address_is_a_field_error(team, owner, set_plan, email):
    set_plan(team, "standard")
    response = client_for(owner).post(f"{BASE}{team.pk}/invitations", {"email": email}, format="json")
    error = _error(response, 400, "invalid")
    assert "email" in error["details"]
    assert not Invitation.objects.filter(team=team).exists()


def test_anonymous_calls_answer_401(team):
    anon = APIClient()
    for method, url in [
        ("get", BASE),
        ("post", BASE),
        ("get", f"{BASE}{team.pk}"),
        ("get", f"{BASE}{team.pk}/members"),
        ("get", f"{BASE}{team.pk}/invitations"),
        ("get", f"{BASE}{team.pk}/usage"),
        ("post", f"{BASE}invitations/accept"),
    ]:
        response = getattr(anon, method)(url)
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "not_authenticated"


def test_a_team_the_user_is_not_in_answers_404_everywhere(team, owner, set_plan):
    set_plan(team, "standard")
    invitation = services.invitation_create(team=team, actor=owner, email="someone@example.com")
    stranger = client_for(UserFactory())
    urls = [
        ("get", f"{BASE}{team.pk}", None),
        ("patch", f"{BASE}{team.pk}", {"name": "Mine"}),
        ("delete", f"{BASE}{team.pk}", None),
        ("get", f"{BASE}{team.pk}/members", None),
        ("patch", f"{BASE}{team.pk}/members/{owner.pk}", {"role": "member"}),
        ("delete", f"{BASE}{team.pk}/members/{owner.pk}", None),
        ("post", f"{BASE}{team.pk}/members/leave", None),
        ("post", f"{BASE}{team.pk}/ownership/transfer", {"user_id": str(owner.pk)}),
        ("get", f"{BASE}{team.pk}/invitations", None),
        ("post", f"{BASE}{team.pk}/invitations", {"email": "x@example.com"}),
        ("post", f"{BASE}{team.pk}/invitations/{invitation.pk}/resend", None),
        ("post", f"{BASE}{team.pk}/invitations/{invitation.pk}/revoke", None),
        ("get", f"{BASE}{team.pk}/usage", None),
    ]
    for method, url, data in urls:
        response = getattr(stranger, method)(url, data, format="json")
        _error(response, 404, "team_not_found")
    # the same answer as a team that does not exist
    _error(stranger.get(f"{BASE}{uuid.uuid4()}"), 404, "team_not_found")
    team.refresh_from_db()
    assert team.name == "Acme Agency"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert Membership.objects.filter(team=team).count() == 1


def test_an_invitation_of_another_team_answers_404(team, owner, set_plan):
    set_plan(team, "standard")
    invitation = services.invitation_create(team=team, actor=owner, email="someone@example.com")
    mine = services.team_create(user=owner, name="Second")
    response = client_for(owner).post(f"{BASE}{mine.pk}/invitations/{invitation.pk}/revoke")
    _error(response, 404, "invitation_not_found")


def test_delete_refused_while_paid_then_allowed(team, owner, set_plan):
    client = client_for(owner)
    set_plan(team, "standard")
    error = _error(client.delete(f"{BASE}{team.pk}"), 409, "paid_subscription_active")
    assert error["details"] == {"plan": "standard", "subscription_status": None}
    set_plan(team, "free")
    assert client.delete(f"{BASE}{team.pk}").status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()


def test_delete_refused_while_a_subscription_awaits_its_first_payment(team, owner):
    """On Free still, but Stripe may yet take the first payment: the team must not vanish under it."""
    from billing.models import BillingAccount

    account = BillingAccount.objects.create(team=team, subscription_id="sub_pending", status="incomplete")
    client = client_for(owner)
    error = _error(client.delete(f"{BASE}{team.pk}"), 409, "paid_subscription_active")
    assert error["details"] == {"plan": "free", "subscription_status": "incomplete"}
    account.status = "incomplete_expired"
    account.save()
    assert client.delete(f"{BASE}{team.pk}").status_code == 204


def test_detail_says_when_the_team_is_over_its_seats(team, owner, add_member, set_plan):
    for _ in range(3):
        add_member(team)
    set_plan(team, "standard")
    seats = client_for(owner).get(f"{BASE}{team.pk}").json()["seats"]
    assert seats["over_seat_limit"] is True
    assert (seats["seats"], seats["members"]) == (2, 4)
    assert "Every member keeps access" in seats["message"]


# --- members -----------------------------------------------------------------------------


def test_members_list_and_role_change(team, owner, add_member):
    member = add_member(team)
    member_client = client_for(member)
    listed = member_client.get(f"{BASE}{team.pk}/members")
    assert listed.status_code == 200
    assert [(m["user"]["email"], m["role"]) for m in listed.json()] == [
        (owner.email, "owner"),
        (member.email, "member"),
    ]

    changed = client_for(owner).patch(f"{BASE}{team.pk}/members/{member.pk}", {"role": "admin"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["role"] == "admin"
    assert Membership.objects.get(team=team, user=member).role == "admin"


def test_role_rules_over_http(team, owner, add_member):
    admin = add_member(team, role=Role.ADMIN)
    member = add_member(team)
    url = f"{BASE}{team.pk}/members/"
    # a member cannot invite
    response = client_for(member).post(f"{BASE}{team.pk}/invitations", {"email": "x@example.com"}, format="json")
    _error(response, 403, "role_not_allowed")
    # an admin cannot make an owner
    response = client_for(admin).patch(f"{url}{member.pk}", {"role": "owner"}, format="json")
    _error(response, 403, "owner_by_transfer_only")
    # nobody edits their own role
    response = client_for(admin).patch(f"{url}{admin.pk}", {"role": "member"}, format="json")
    _error(response, 403, "own_role")
    response = client_for(owner).patch(f"{url}{owner.pk}", {"role": "admin"}, format="json")
    _error(response, 403, "own_role")
    # only the owner grants admin
    response = client_for(admin).patch(f"{url}{member.pk}", {"role": "admin"}, format="json")
    _error(response, 403, "only_owner_grants_admin")
    # a member of the team that is not one answers 404
    response = client_for(owner).patch(f"{url}{UserFactory().pk}", {"role": "admin"}, format="json")
    _error(response, 404, "member_not_found")
    response = client_for(owner).patch(f"{url}{member.pk}", {"role": "boss"}, format="json")
    _error(response, 400, "invalid")
    roles = dict(Membership.objects.filter(team=team).values_list("user_id", "role"))
    assert roles == {owner.pk: "owner", admin.pk: "admin", member.pk: "member"}


def test_remove_leave_and_transfer(team, owner, add_member):
    admin = add_member(team, role=Role.ADMIN)
    member = add_member(team)
    assert client_for(admin).delete(f"{BASE}{team.pk}/members/{member.pk}").status_code == 204
    _error(client_for(owner).post(f"{BASE}{team.pk}/members/leave"), 409, "owner_cannot_leave")

    transferred = client_for(owner).post(
        f"{BASE}{team.pk}/ownership/transfer", {"user_id": str(admin.pk)}, format="json"
    )
    assert transferred.status_code == 200
    assert {m["user"]["email"]: m["role"] for m in transferred.json()} == {owner.email: "admin", admin.email: "owner"}
    assert client_for(owner).post(f"{BASE}{team.pk}/members/leave").status_code == 204
    assert list(Membership.objects.filter(team=team).values_list("user_id", "role")) == [(admin.pk, "owner")]
    # gone means gone: the former owner's next request is a 404
    _error(client_for(owner).get(f"{BASE}{team.pk}"), 404, "team_not_found")


# --- invitations -------------------------------------------------------------------------


def test_invite_list_resend_revoke(team, owner, set_plan, django_capture_on_commit_callbacks, settings):
    settings.FRONTEND_URL = "https://app.example.com"
    set_plan(team, "premium")
    client = client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"{BASE}{team.pk}/invitations", {"email": "Invitee@Example.com", "role": "admin"}, format="json"
        )
    assert created.status_code == 201
    body = created.json()
    invitation = Invitation.objects.get(pk=body["id"])
    assert body["email"] == "invitee@example.com"
    assert body["role"] == "admin"
    assert body["status"] == "pending"
    assert body["invited_by"] == owner.email
    assert body["accept_url"] == f"https://app.example.com/teams/invitations/accept?token={invitation.token}"
    assert len(mail.outbox) == 1 and body["accept_url"] in mail.outbox[0].body

    listed = client.get(f"{BASE}{team.pk}/invitations")
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert listed.json()["results"][0]["id"] == invitation.pk

    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(f"{BASE}{team.pk}/invitations/{invitation.pk}/resend")
    assert resent.status_code == 200
    assert len(mail.outbox) == 2

    revoked = client.post(f"{BASE}{team.pk}/invitations/{invitation.pk}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["accept_url"] is None
    assert client.get(f"{BASE}{team.pk}/invitations?status=pending").json()["count"] == 0
    assert client.get(f"{BASE}{team.pk}/invitations?status=revoked").json()["count"] == 1
    _error(client.get(f"{BASE}{team.pk}/invitations?status=bogus"), 400, "invalid")
    _error(client.post(f"{BASE}{team.pk}/invitations/{invitation.pk}/resend"), 409, "invitation_not_pending")


def test_a_member_does_not_see_invitations(team, add_member):
    member = add_member(team)
    _error(client_for(member).get(f"{BASE}{team.pk}/invitations"), 403, "role_not_allowed")


def test_seats_exhausted_names_the_plan_and_its_seats(team, owner):
    response = client_for(owner).post(f"{BASE}{team.pk}/invitations", {"email": "x@example.com"}, format="json")
    error = _error(response, 409, "seats_exhausted")
    assert error["details"]["plan"] == "free"
    assert error["details"]["seats"] == 1
    assert "Free plan has 1 seat(s)" in error["message"]


def test_a_person_without_an_account_registers_then_accepts(team, owner, set_plan):
    set_plan(team, "standard")
    invitation = services.invitation_create(team=team, actor=owner, email="newcomer@example.com")
    anon = APIClient()
    registered = anon.post(
        "/api/v1/auth/register",
        {"email": "NewComer@Example.com", "password": "a-Long-passphrase-42"},
        format="json",
    )
    assert registered.status_code == 201, registered.content
    login = anon.post(
        "/api/v1/auth/login", {"email": "newcomer@example.com", "password": "a-Long-passphrase-42"}, format="json"
    )
    assert login.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    accepted = client.post(f"{BASE}invitations/accept", {"token": invitation.token}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["team"]["id"] == str(team.pk)
    assert accepted.json()["role"] == "member"
    again = client.post(f"{BASE}invitations/accept", {"token": invitation.token}, format="json")
    assert again.status_code == 200
    assert Membership.objects.filter(team=team).count() == 2
    newcomer = Membership.objects.get(team=team, role=Role.MEMBER).user
    assert [t["team"]["id"] for t in client.get(BASE).json()] == [str(team_of(newcomer).pk), str(team.pk)]
    # the new member sees the team, its members and usage
    assert client.get(f"{BASE}{team.pk}/members").status_code == 200
    assert client.get(f"{BASE}{team.pk}/usage").status_code == 200


def test_accept_errors(team, owner, set_plan):
    set_plan(team, "standard")
    invitation = services.invitation_create(team=team, actor=owner, email="invited@example.com")
    wrong = client_for(UserFactory(email="other@example.com"))
    _error(
        wrong.post(f"{BASE}invitations/accept", {"token": invitation.token}, format="json"),
        403,
        "invitation_email_mismatch",
    )
    _error(wrong.post(f"{BASE}invitations/accept", {"token": "nope"}, format="json"), 400, "invitation_invalid")
    _error(wrong.post(f"{BASE}invitations/accept", {}, format="json"), 400, "invalid")
    services.invitation_revoke(invitation=invitation, actor=owner)
    invited = client_for(UserFactory(email="invited@example.com"))
    _error(
        invited.post(f"{BASE}invitations/accept", {"token": invitation.token}, format="json"), 400, "invitation_revoked"
    )


def test_accept_when_the_seats_are_full(team, owner, set_plan, pending):
    set_plan(team, "standard")
    first = pending(team, "one@example.com")
    second = pending(team, "two@example.com")
    client_for(UserFactory(email="one@example.com")).post(
        f"{BASE}invitations/accept", {"token": first.token}, format="json"
    )
    response = client_for(UserFactory(email="two@example.com")).post(
        f"{BASE}invitations/accept", {"token": second.token}, format="json"
    )
    error = _error(response, 409, "seats_exhausted")
    assert (error["details"]["plan"], error["details"]["seats"]) == ("standard", 2)


def test_every_teams_route_is_in_the_schema():
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = {p for p in schema["paths"] if p.startswith("/api/v1/teams/")}
    assert paths == {
        "/api/v1/teams/",
        "/api/v1/teams/invitations/accept",
        "/api/v1/teams/{team_id}",
        "/api/v1/teams/{team_id}/members",
        "/api/v1/teams/{team_id}/members/leave",
        "/api/v1/teams/{team_id}/members/{user_id}",
        "/api/v1/teams/{team_id}/ownership/transfer",
        "/api/v1/teams/{team_id}/invitations",
        "/api/v1/teams/{team_id}/invitations/{invitation_id}/resend",
        "/api/v1/teams/{team_id}/invitations/{invitation_id}/revoke",
        "/api/v1/teams/{team_id}/usage",
    }
    accept = schema["paths"]["/api/v1/teams/invitations/accept"]["post"]["responses"]
    assert {"200", "400", "401", "403", "409"} <= set(accept)


def test_delete_with_credits_left_needs_the_owner_to_give_them_up(team, owner, set_plan):
    from credits.models import Wallet
    from credits.services import credits_grant

    set_plan(team, "free")
    credits_grant(account_id=team.pk, amount=300, reason="top-up", idempotency_key="forfeit-test")
    client = client_for(owner)
    error = _error(client.delete(f"{BASE}{team.pk}"), 409, "credits_remaining")
    assert error["details"] == {"balance": 300} and Team.objects.filter(pk=team.pk).exists()
    _error(client.delete(f"{BASE}{team.pk}?forfeit_credits=maybe"), 400, "invalid")
    assert client.delete(f"{BASE}{team.pk}?forfeit_credits=true").status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()
    # The wallet and its ledger stay as financial records, keyed by the deleted team's id.
    wallet = Wallet.objects.get(account_id=team.pk)
    assert wallet.balance == 300 and wallet.transactions.filter(kind="earn").count() == 1
