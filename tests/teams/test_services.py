"""Teams services: teams, roles, ownership, invitations and seats, on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.data_migrations import data_migration_run
from config.errors import Conflict, NotFound, ValidationFailed
from teams import selectors, services
from teams.errors import InvitationInvalid, RoleNotAllowed, SeatsExhausted
from teams.models import Invitation, Membership, Team
from tests.factories import UserFactory, team_of

pytestmark = pytest.mark.django_db
Role = Membership.Role


def _role(team, user) -> str | None:
    membership = Membership.objects.filter(team=team, user=user).first()
    return membership.role if membership else None


# --- teams -------------------------------------------------------------------------------


def test_team_create_makes_the_creator_its_only_owner(owner):
    team = services.team_create(user=owner, name="  Acme   Agency ")
    assert team.name == "Acme Agency"
    assert team.slug.startswith("acme-agency-")
    assert team.created_by == owner
    assert list(Membership.objects.filter(team=team).values_list("user_id", "role")) == [(owner.pk, "owner")]
    assert selectors.team_plan(team).code == "free"


def test_two_teams_with_one_name_get_distinct_slugs(owner):
    a = services.team_create(user=owner, name="Acme")
    b = services.team_create(user=owner, name="Acme")
    assert a.slug != b.slug


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_team_create_refuses_a_bad_name(owner, name):
    with pytest.raises(ValidationFailed) as exc:
        services.team_create(user=owner, name=name)
    assert exc.value.code == "invalid"
    assert "name" in exc.value.details
    assert not Team.objects.filter(memberships__user=owner, is_personal=False).exists()


def test_rename_by_admin_but_not_by_member(team, owner, add_member):
    admin = add_member(team, role=Role.ADMIN)
    member = add_member(team)
    services.team_rename(team=team, actor=admin, name="Renamed")
    team.refresh_from_db()
    assert team.name == "Renamed"
    with pytest.raises(RoleNotAllowed):
        services.team_rename(team=team, actor=member, name="Nope")
    team.refresh_from_db()
    assert team.name == "Renamed"


def test_delete_is_owner_only(team, owner, add_member, set_plan):
    admin = add_member(team, role=Role.ADMIN)
    set_plan(team, "free")  # add_member moved the team to Premium
    with pytest.raises(RoleNotAllowed):
        services.team_delete(team=team, actor=admin)
    services.team_delete(team=team, actor=owner)
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Membership.objects.filter(team_id=team.pk).exists()


def test_delete_is_refused_while_a_paid_plan_is_active(team, owner, set_plan):
    set_plan(team, "standard")
    assert selectors.team_has_active_paid_plan(team) is True
    with pytest.raises(Conflict) as exc:
        services.team_delete(team=team, actor=owner)
    assert exc.value.code == "paid_subscription_active"
    assert exc.value.details == {"plan": "standard", "subscription_status": None}
    assert Team.objects.filter(pk=team.pk).exists()


def test_a_personal_team_is_not_deleted(owner):
    personal = services.team_personal_ensure(user=owner)
    with pytest.raises(Conflict) as exc:
        services.team_delete(team=personal, actor=owner)
    assert exc.value.code == "personal_team"


def test_a_stranger_gets_not_found_not_forbidden(team):
    stranger = UserFactory()
    with pytest.raises(NotFound):
        services.team_rename(team=team, actor=stranger, name="Mine")
    with pytest.raises(NotFound):
        selectors.membership_get(team_id=team.pk, user=stranger)


# --- roles -------------------------------------------------------------------------------


def test_owner_grants_and_removes_admin(team, owner, add_member):
    member = add_member(team)
    services.membership_role_change(team=team, actor=owner, user_id=member.pk, role=Role.ADMIN)
    assert _role(team, member) == "admin"
    services.membership_role_change(team=team, actor=owner, user_id=member.pk, role=Role.MEMBER)
    assert _role(team, member) == "member"


def test_only_the_owner_grants_admin(team, add_member):
    admin = add_member(team, role=Role.ADMIN)
    member = add_member(team)
    with pytest.raises(RoleNotAllowed) as exc:
        services.membership_role_change(team=team, actor=admin, user_id=member.pk, role=Role.ADMIN)
    assert exc.value.code == "only_owner_grants_admin"
    assert _role(team, member) == "member"


def test_an_admin_cannot_make_an_owner(team, owner, add_member):
    admin = add_member(team, role=Role.ADMIN)
    member = add_member(team)
    with pytest.raises(RoleNotAllowed) as exc:
        services.membership_role_change(team=team, actor=admin, user_id=member.pk, role=Role.OWNER)
    assert exc.value.code == "owner_by_transfer_only"
    assert _role(team, member) == "member"
    assert _role(team, owner) == "owner"


def test_an_admin_cannot_demote_another_admin_or_the_owner(team, owner, add_member):
    admin = add_member(team, role=Role.ADMIN)
    other_admin = add_member(team, role=Role.ADMIN)
    with pytest.raises(RoleNotAllowed):
        services.membership_role_change(team=team, actor=admin, user_id=other_admin.pk, role=Role.MEMBER)
    with pytest.raises(RoleNotAllowed):
        services.membership_role_change(team=team, actor=admin, user_id=owner.pk, role=Role.MEMBER)
    assert (_role(team, other_admin), _role(team, owner)) == ("admin", "owner")


def test_a_member_changes_no_role(team, add_member):
    member = add_member(team)
    other = add_member(team)
    with pytest.raises(RoleNotAllowed):
        services.membership_role_change(team=team, actor=member, user_id=other.pk, role=Role.MEMBER)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER])
def test_nobody_changes_their_own_role(team, owner, add_member, role):
    actor = owner if role == Role.OWNER else add_member(team, role=role)
    target_role = Role.MEMBER if role != Role.MEMBER else Role.ADMIN
    with pytest.raises(RoleNotAllowed) as exc:
        services.membership_role_change(team=team, actor=actor, user_id=actor.pk, role=target_role)
    assert exc.value.code == "own_role"
    assert _role(team, actor) == role


def test_remove_rules(team, owner, add_member):
    admin = add_member(team, role=Role.ADMIN)
    member = add_member(team)
    other = add_member(team)
    with pytest.raises(RoleNotAllowed):
        services.membership_remove(team=team, actor=member, user_id=other.pk)
    with pytest.raises(RoleNotAllowed):
        services.membership_remove(team=team, actor=admin, user_id=owner.pk)
    with pytest.raises(Conflict) as exc:
        services.membership_remove(team=team, actor=admin, user_id=admin.pk)
    assert exc.value.code == "use_leave"
    services.membership_remove(team=team, actor=admin, user_id=member.pk)
    services.membership_remove(team=team, actor=owner, user_id=admin.pk)
    assert set(Membership.objects.filter(team=team).values_list("user_id", flat=True)) == {owner.pk, other.pk}
    with pytest.raises(NotFound):
        services.membership_remove(team=team, actor=owner, user_id=member.pk)


def test_the_owner_cannot_leave_but_a_member_can(team, owner, add_member):
    member = add_member(team)
    with pytest.raises(Conflict) as exc:
        services.membership_leave(team=team, user=owner)
    assert exc.value.code == "owner_cannot_leave"
    services.membership_leave(team=team, user=member)
    assert _role(team, member) is None
    assert _role(team, owner) == "owner"


def test_ownership_transfer_swaps_roles(team, owner, add_member):
    member = add_member(team)
    services.ownership_transfer(team=team, actor=owner, user_id=member.pk)
    assert (_role(team, owner), _role(team, member)) == ("admin", "owner")
    assert Membership.objects.filter(team=team, role=Role.OWNER).count() == 1
    # the former owner can now leave; the new one cannot
    services.membership_leave(team=team, user=owner)
    with pytest.raises(Conflict):
        services.membership_leave(team=team, user=member)


def test_only_the_owner_transfers_ownership(team, owner, add_member):
    admin = add_member(team, role=Role.ADMIN)
    member = add_member(team)
    with pytest.raises(RoleNotAllowed):
        services.ownership_transfer(team=team, actor=admin, user_id=member.pk)
    with pytest.raises(NotFound):
        services.ownership_transfer(team=team, actor=owner, user_id=UserFactory().pk)
    assert _role(team, owner) == "owner"


def test_the_database_refuses_a_second_owner(team, add_member):
    member = add_member(team)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(team=team, user=member).update(role=Role.OWNER)


# --- invitations -------------------------------------------------------------------------


def test_invitation_create_stores_the_email_lower_case_and_emails_the_link(
    team, owner, set_plan, django_capture_on_commit_callbacks, settings
):
    settings.FRONTEND_URL = "https://app.example.com/"
    set_plan(team, "standard")
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(team=team, actor=owner, email="  New.Person@Example.COM ")
    assert invitation.email == "new.person@example.com"
    assert invitation.status == Invitation.Status.PENDING
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    url = selectors.invitation_accept_url(invitation)
    assert url == f"https://app.example.com/teams/invitations/accept?token={invitation.token}"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert url in mail.outbox[0].body
    assert "Acme Agency" in mail.outbox[0].subject


def test_no_email_when_the_transaction_rolls_back(team, owner, set_plan, django_capture_on_commit_callbacks):
    set_plan(team, "standard")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.invitation_create(team=team, actor=owner, email="a@example.com")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []
    assert not Invitation.objects.exists()


def test_a_member_cannot_invite(team, add_member):
    member = add_member(team)
    with pytest.raises(RoleNotAllowed):
        services.invitation_create(team=team, actor=member, email="x@example.com")
    assert not Invitation.objects.filter(email="x@example.com").exists()


def test_only_the_owner_invites_admins(team, owner, add_member):
    admin = add_member(team, role=Role.ADMIN)
    with pytest.raises(RoleNotAllowed) as exc:
        services.invitation_create(team=team, actor=admin, email="x@example.com", role=Role.ADMIN)
    assert exc.value.code == "only_owner_grants_admin"
    invitation = services.invitation_create(team=team, actor=admin, email="x@example.com")
    assert invitation.role == Role.MEMBER
    with pytest.raises(ValidationFailed):
        services.invitation_create(team=team, actor=owner, email="y@example.com", role=Role.OWNER)


def test_duplicate_and_member_invitations_are_refused(team, owner, add_member):
    member = add_member(team)
    with pytest.raises(Conflict) as exc:
        services.invitation_create(team=team, actor=owner, email=member.email.upper())
    assert exc.value.code == "already_member"
    services.invitation_create(team=team, actor=owner, email="dup@example.com")
    with pytest.raises(Conflict) as exc:
        services.invitation_create(team=team, actor=owner, email="DUP@example.com")
    assert exc.value.code == "already_invited"


def test_accept_case_insensitively_and_twice_is_a_no_op(team, owner, set_plan):
    set_plan(team, "standard")
    invitation = services.invitation_create(team=team, actor=owner, email="Mixed@Example.com")
    user = UserFactory(email="mixed@example.com")
    first = services.invitation_accept(token=invitation.token, user=user)
    second = services.invitation_accept(token=invitation.token, user=user)
    assert first.pk == second.pk
    assert first.role == Role.MEMBER
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == (Invitation.Status.ACCEPTED, user)
    assert Membership.objects.filter(team=team).count() == 2


def test_accept_by_another_email_is_refused(team, owner, set_plan):
    set_plan(team, "standard")
    invitation = services.invitation_create(team=team, actor=owner, email="invited@example.com")
    with pytest.raises(RoleNotAllowed) as exc:
        services.invitation_accept(token=invitation.token, user=UserFactory(email="someone.else@example.com"))
    assert exc.value.code == "invitation_email_mismatch"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_bad_tokens_have_distinct_codes(team, owner, set_plan):
    set_plan(team, "premium")
    user = UserFactory(email="t@example.com")
    with pytest.raises(InvitationInvalid) as exc:
        services.invitation_accept(token="no-such-token", user=user)
    assert exc.value.code == "invitation_invalid"

    revoked = services.invitation_create(team=team, actor=owner, email="t@example.com")
    services.invitation_revoke(invitation=revoked, actor=owner)
    with pytest.raises(InvitationInvalid) as exc:
        services.invitation_accept(token=revoked.token, user=user)
    assert exc.value.code == "invitation_revoked"

    expired = services.invitation_create(team=team, actor=owner, email="t@example.com")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvitationInvalid) as exc:
        services.invitation_accept(token=expired.token, user=user)
    assert exc.value.code == "invitation_expired"
    expired.refresh_from_db()
    assert expired.status == Invitation.Status.EXPIRED  # kept although the call failed
    with pytest.raises(InvitationInvalid) as exc:
        services.invitation_accept(token=expired.token, user=user)
    assert exc.value.code == "invitation_expired"

    used = services.invitation_create(team=team, actor=owner, email="t@example.com")
    services.invitation_accept(token=used.token, user=user)
    services.membership_leave(team=team, user=user)
    with pytest.raises(InvitationInvalid) as exc:
        services.invitation_accept(token=used.token, user=user)
    assert exc.value.code == "invitation_used"
    assert _role(team, user) is None


def test_resend_restarts_the_week_and_emails_again(team, owner, set_plan, django_capture_on_commit_callbacks):
    set_plan(team, "standard")
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(team=team, actor=owner, email="r@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        resent = services.invitation_resend(invitation=invitation, actor=owner)
    assert resent.expires_at > timezone.now() + timedelta(days=6)
    assert resent.token == invitation.token
    assert len(mail.outbox) == 2
    services.invitation_revoke(invitation=invitation, actor=owner)
    with pytest.raises(Conflict) as exc:
        services.invitation_resend(invitation=invitation, actor=owner)
    assert exc.value.code == "invitation_not_pending"


def test_revoke_frees_the_seat_and_twice_is_a_no_op(team, owner, set_plan):
    set_plan(team, "standard")
    first = services.invitation_create(team=team, actor=owner, email="a@example.com")
    with pytest.raises(SeatsExhausted):
        services.invitation_create(team=team, actor=owner, email="b@example.com")
    services.invitation_revoke(invitation=first, actor=owner)
    services.invitation_revoke(invitation=first, actor=owner)
    services.invitation_create(team=team, actor=owner, email="b@example.com")


def test_the_email_task_skips_an_invitation_no_longer_pending(team, owner, set_plan):
    from teams.tasks import invitation_email_send

    set_plan(team, "standard")
    invitation = services.invitation_create(team=team, actor=owner, email="gone@example.com")
    services.invitation_revoke(invitation=invitation, actor=owner)
    assert invitation_email_send(str(invitation.pk)) is False
    assert invitation_email_send(str(invitation.pk + 1000)) is False
    assert mail.outbox == []


# --- seats -------------------------------------------------------------------------------


def test_free_plan_has_one_seat_the_owners(team, owner):
    with pytest.raises(SeatsExhausted) as exc:
        services.invitation_create(team=team, actor=owner, email="x@example.com")
    assert exc.value.status_code == 409
    assert exc.value.details == {
        "plan": "free",
        "seats": 1,
        "members": 1,
        "pending_invitations": 0,
        "over_seat_limit": False,
    }
    assert "Free plan has 1 seat" in exc.value.message


def test_pending_invitations_hold_seats_until_they_expire(team, owner, set_plan):
    set_plan(team, "standard")
    stale = services.invitation_create(team=team, actor=owner, email="a@example.com")
    with pytest.raises(SeatsExhausted):
        services.invitation_create(team=team, actor=owner, email="b@example.com")
    Invitation.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    services.invitation_create(team=team, actor=owner, email="b@example.com")
    stale.refresh_from_db()
    assert stale.status == Invitation.Status.EXPIRED
    # reviving the expired one would need a seat nobody holds
    Invitation.objects.filter(pk=stale.pk).update(status=Invitation.Status.PENDING)
    with pytest.raises(SeatsExhausted):
        services.invitation_resend(invitation=stale, actor=owner)


def test_premium_fills_exactly_five_seats(team, owner, set_plan):
    set_plan(team, "premium")
    for i in range(4):
        services.invitation_create(team=team, actor=owner, email=f"p{i}@example.com")
    with pytest.raises(SeatsExhausted) as exc:
        services.invitation_create(team=team, actor=owner, email="p5@example.com")
    assert (exc.value.details["plan"], exc.value.details["seats"]) == ("premium", 5)
    seats = selectors.team_seats(team=team)
    assert (seats.members, seats.pending, seats.used, seats.free) == (1, 4, 5, 0)


def test_a_downgrade_keeps_every_member_and_blocks_invitations(team, owner, add_member, set_plan):
    members = [add_member(team) for _ in range(3)]
    set_plan(team, "standard")
    assert set(Membership.objects.filter(team=team).values_list("user_id", flat=True)) == {
        owner.pk,
        *[m.pk for m in members],
    }
    seats = selectors.team_seats(team=team)
    assert (seats.seats, seats.members, seats.over_limit) == (2, 4, True)
    assert "no one can be invited" in seats.message
    with pytest.raises(SeatsExhausted) as exc:
        services.invitation_create(team=team, actor=owner, email="late@example.com")
    assert exc.value.details["over_seat_limit"] is True
    # members leave until there is a free seat again
    for member in members:
        services.membership_leave(team=team, user=member)
    assert selectors.team_seats(team=team).over_limit is False
    services.invitation_create(team=team, actor=owner, email="late@example.com")


def test_accept_is_refused_when_members_fill_the_seats(team, owner, set_plan, pending):
    set_plan(team, "standard")
    a = pending(team, "a@example.com")
    b = pending(team, "b@example.com")  # written when the team had more seats
    services.invitation_accept(token=a.token, user=UserFactory(email="a@example.com"))
    with pytest.raises(SeatsExhausted) as exc:
        services.invitation_accept(token=b.token, user=UserFactory(email="b@example.com"))
    assert exc.value.details["plan"] == "standard"
    assert exc.value.details["seats"] == 2
    b.refresh_from_db()
    assert b.status == Invitation.Status.PENDING
    assert Membership.objects.filter(team=team).count() == 2


def test_team_list_for_user_shows_role_plan_and_seats(team, owner, add_member, set_plan):
    member = add_member(team)
    other = services.team_create(user=member, name="Member's own")
    set_plan(team, "standard")
    rows = selectors.team_list_for_user(user=member)
    assert [(r["team"].pk, r["role"], r["seats"].plan_code, r["seats"].seats, r["seats"].used) for r in rows] == [
        (team_of(member).pk, "owner", "free", 1, 1),
        (team.pk, "member", "standard", 2, 2),
        (other.pk, "owner", "free", 1, 1),
    ]
    assert [r["is_default"] for r in rows] == [True, False, False]


def test_the_daily_task_marks_every_stale_invitation_expired(team, owner, set_plan):
    from django_celery_beat.models import PeriodicTask

    from teams.tasks import invitations_expire

    set_plan(team, "premium")
    stale = services.invitation_create(team=team, actor=owner, email="old@example.com")
    fresh = services.invitation_create(team=team, actor=owner, email="new@example.com")
    Invitation.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert invitations_expire.apply().get() == 1
    assert Invitation.objects.get(pk=stale.pk).status == Invitation.Status.EXPIRED
    assert Invitation.objects.get(pk=fresh.pk).status == Invitation.Status.PENDING
    assert invitations_expire.apply().get() == 0  # idempotent
    # A transactional test's flush may have emptied the beat tables: schedule as the migration does.
    data_migration_run("teams.migrations.0004_beat_invitations_expire", "schedule")
    data_migration_run("teams.migrations.0004_beat_invitations_expire", "schedule")  # twice: still one task
    task = PeriodicTask.objects.get(task="teams.tasks.invitations_expire")
    assert task.enabled and task.crontab.hour == "3" and task.queue == "default"
