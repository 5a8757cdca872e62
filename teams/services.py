"""Teams writes: teams (the personal one with every account), the default team, roles,
ownership, invitations and seats.

The team is the account that owns the wallet (``credits`` knows it as ``account_id``), the
unlocks, the jobs and the exports; its members act for it. Membership saves and deletes
drop the member's cached membership record (``teams.signals``), so a change is seen on
the member's next request.

Role rules (``selectors.membership_require_role`` and ``membership_role_change``):
- owner: everything, including deleting the team and handing ownership to a member;
- admin: invites, removes members and changes roles below their own;
- member: none of these;
- nobody changes their own role; only the owner grants admin; the owner role moves only
  through ``ownership_transfer``.

Seats: members + pending invitations <= the plan's ``seats``. Every operation that adds
a member or a pending invitation locks the team row (``select_for_update``) first and
counts after the lock, so two of them on one team run one after another. A downgrade
below the member count keeps every member and only blocks new invitations and acceptances.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from accounts.emails import email_send
from config.errors import Conflict, NotFound, ValidationFailed
from config.tasks import task_send_on_commit
from credits.models import Plan
from credits.services import wallet_get_or_create, wallet_set_plan
from teams import selectors
from teams.errors import InvitationInvalid, RoleNotAllowed, SeatsExhausted
from teams.models import INVITATION_TTL, Invitation, Membership, Team
from teams.selectors import memberships_key, team_personal_of

TEAM_NAME_MAX = 120
Role = Membership.Role
logger = logging.getLogger(__name__)


def memberships_invalidate(user_id: Any) -> None:
    """Drop the user's cached membership record now and again on commit (see ``teams.selectors``)."""
    key = memberships_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _slug_for(name: str) -> str:
    base = slugify(name)[:100] or "team"
    return f"{base}-{secrets.token_hex(4)}"


def _clean_name(name: Any) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationFailed("A team needs a name.", code="invalid", details={"name": ["This field is required."]})
    if len(name) > TEAM_NAME_MAX:
        raise ValidationFailed("The team name is too long.", details={"name": [f"At most {TEAM_NAME_MAX} characters."]})
    return name


def team_create(*, user: Any, name: str, personal: bool = False) -> Team:
    """A new team owned by ``user``, with its wallet (Free plan). The user's first team is their default.

    Only a personal team gets the Free plan's monthly allowances (one set per person); a team
    created on top of it unlocks with credits, or with the quota of a paid plan.
    """
    name = _clean_name(name)
    with transaction.atomic():
        team = Team.objects.create(name=name, slug=_slug_for(name), created_by=user, is_personal=personal)
        first = not Membership.objects.filter(user=user).exists()
        Membership.objects.create(team=team, user=user, role=Membership.Role.OWNER, is_default=first)
        wallet_get_or_create(**selectors.team_account(team), free_allowances=personal)
        memberships_invalidate(user.pk)
    return team


def team_personal_ensure(*, user: Any) -> Team:
    """The user's personal team, created (as their default) when they have none: no user is without a team."""
    team = team_personal_of(user=user)
    if team is not None:
        return team
    label = (getattr(user, "full_name", "") or "").strip() or user.email.split("@")[0]
    try:
        with transaction.atomic():
            return team_create(user=user, name=f"{label}'s team"[:TEAM_NAME_MAX], personal=True)
    except IntegrityError:  # a concurrent request created it (one default per user)
        team = team_personal_of(user=user)
        if team is None:
            raise
        return team


def membership_default_set(*, user: Any, team_id: Any) -> Membership:
    """Make one of the user's teams their default (404 when they are not a member)."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user=user, team_id=team_id).first()
        if membership is None:
            raise NotFound("No such team.", code="team_not_found", details={"team_id": str(team_id)})
        Membership.objects.filter(user=user, is_default=True).exclude(pk=membership.pk).update(is_default=False)
        if not membership.is_default:
            membership.is_default = True
            membership.save(update_fields=["is_default", "updated_at"])
        memberships_invalidate(user.pk)
    return membership


def team_flag_for_staff(*, team: Team, reason: str) -> Team:
    """Flag the team for staff review (a payment dispute); the first reason is kept."""
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        if not locked.flagged_for_staff:
            locked.flagged_for_staff = True
            locked.flagged_reason = reason[:255]
            locked.save(update_fields=["flagged_for_staff", "flagged_reason", "updated_at"])
    team.flagged_for_staff, team.flagged_reason = locked.flagged_for_staff, locked.flagged_reason
    return locked


# --- helpers -----------------------------------------------------------------------------


def _lock_team(team: Team) -> Team:
    """Lock the team row until the surrounding transaction ends (serialises seat changes)."""
    return Team.objects.select_for_update().get(pk=team.pk)


def _seats_check(team: Team, *, adding_member: bool) -> None:
    """Refuse with 409 ``seats_exhausted`` when the team has no seat left (team row locked).

    A new invitation needs a seat nobody holds: members + pending < seats. An acceptance
    turns the invitee's own pending seat into a member, so it needs members < seats.
    """
    seats = selectors.team_seats(team=team)
    taken = seats.members if adding_member else seats.used
    if taken >= seats.seats:
        raise SeatsExhausted(
            f"The {seats.plan_name} plan has {seats.seats} seat(s) and all are taken. {seats.message}".strip(),
            details={
                "plan": seats.plan_code,
                "seats": seats.seats,
                "members": seats.members,
                "pending_invitations": seats.pending,
                "over_seat_limit": seats.over_limit,
            },
        )


def _require_above(acting: Membership, target: Membership, action: str) -> None:
    if selectors.ROLE_RANK[target.role] >= selectors.ROLE_RANK[acting.role]:
        raise RoleNotAllowed(
            f"You can only {action} members below your own role.",
            details={"your_role": acting.role, "member_role": target.role},
        )


def _membership_locked(team: Team, user: Any) -> Membership:
    membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
    if membership is None:
        raise NotFound("No such team.", code="team_not_found")
    return membership


# --- teams -------------------------------------------------------------------------------


def team_rename(*, team: Team, actor: Any, name: str) -> Team:
    """Rename the team (owner or admin)."""
    name = _clean_name(name)
    with transaction.atomic():
        team = _lock_team(team)
        selectors.membership_require_role(_membership_locked(team, actor), Role.ADMIN, "rename the team")
        team.name = name
        team.save(update_fields=["name", "updated_at"])
    return team


def team_delete(
    *, team: Team, actor: Any, forfeit_credits: bool = False, subscription_status: str | None = None
) -> None:
    """Delete the team (owner only).

    Refused with 409 ``paid_subscription_active`` while the team is on a paid plan
    (``selectors.team_has_active_paid_plan``) or its Stripe subscription has not ended
    (``subscription_status``, from billing: one awaiting its first payment may still bill),
    with 409 ``personal_team`` for a personal team
    (every user keeps at least the team they signed up with), and with 409
    ``credits_remaining`` while its wallet holds credits, unless ``forfeit_credits`` says the
    owner gives them up. The wallet and its ledger stay (financial records, keyed by the
    deleted team's id); nobody can spend from them again.
    """
    with transaction.atomic():
        team = _lock_team(team)
        selectors.membership_require_role(_membership_locked(team, actor), Role.OWNER, "delete the team")
        if team.is_personal:
            raise Conflict("A personal team cannot be deleted.", code="personal_team")
        if selectors.team_has_active_paid_plan(team) or subscription_status:
            plan = selectors.team_plan(team)
            raise Conflict(
                "Cancel the team's paid plan (and let its subscription end) before deleting the team.",
                code="paid_subscription_active",
                details={"plan": plan.code, "subscription_status": subscription_status},
            )
        balance = selectors.team_balance(team)
        if balance > 0 and not forfeit_credits:
            raise Conflict(
                f"The team still holds {balance:,} credits; they are lost with the team. "
                "Delete with forfeit_credits=true to give them up.",
                code="credits_remaining",
                details={"balance": balance},
            )
        team_id = team.pk  # Django clears it on delete()
        try:
            with transaction.atomic():
                team.delete()
        except ProtectedError as exc:
            raise Conflict(
                "The team still owns records that must be kept; contact support to close it.",
                code="team_has_records",
                details={"models": sorted({obj._meta.label for obj in exc.protected_objects})},
            ) from exc
    logger.info("teams: team %s deleted by %s", team_id, getattr(actor, "pk", None))


def team_plan_set(*, team: Team, plan_code: str, actor: Any) -> Plan:
    """Staff grant: put the team's wallet on ``plan_code`` (no payment; a downgrade keeps members)."""
    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None:
        raise ValidationFailed(
            "Unknown plan.", code="invalid_plan", details={"plan": [f"{plan_code!r} is not a plan."]}
        )
    wallet_set_plan(**selectors.team_account(team), plan_code=plan.code)
    logger.info("teams: staff %s set team %s to plan %s", getattr(actor, "pk", None), team.pk, plan.code)
    return plan


# --- memberships -------------------------------------------------------------------------


def membership_role_change(*, team: Team, actor: Any, user_id: Any, role: str) -> Membership:
    """Change a member's role: the target's current and new roles must both rank below the actor's."""
    if role not in (Role.ADMIN, Role.MEMBER):
        if role == Role.OWNER:
            raise RoleNotAllowed(
                "The owner role moves only by transferring ownership.",
                code="owner_by_transfer_only",
                details={"role": role},
            )
        raise ValidationFailed("Unknown role.", code="invalid_role", details={"role": [f"{role!r} is not a role."]})
    with transaction.atomic():
        team = _lock_team(team)
        acting = _membership_locked(team, actor)
        target = selectors.membership_get_by_user_id(team=team, user_id=user_id)
        if target.pk == acting.pk:
            raise RoleNotAllowed("Nobody can change their own role.", code="own_role")
        selectors.membership_require_role(acting, Role.ADMIN, "change roles")
        if role == Role.ADMIN and acting.role != Role.OWNER:
            raise RoleNotAllowed("Only the owner grants the admin role.", code="only_owner_grants_admin")
        _require_above(acting, target, "change the roles of")
        if target.role != role:
            target.role = role
            target.save(update_fields=["role", "updated_at"])
    return target


def membership_remove(*, team: Team, actor: Any, user_id: Any) -> None:
    """Remove another member (owner or admin; only members ranked below the actor)."""
    with transaction.atomic():
        team = _lock_team(team)
        acting = _membership_locked(team, actor)
        target = selectors.membership_get_by_user_id(team=team, user_id=user_id)
        if target.pk == acting.pk:
            raise Conflict("Use leave to leave the team.", code="use_leave")
        selectors.membership_require_role(acting, Role.ADMIN, "remove members")
        _require_above(acting, target, "remove")
        target.delete()


def membership_leave(*, team: Team, user: Any) -> None:
    """Leave the team; the owner must hand over ownership first (409 ``owner_cannot_leave``)."""
    with transaction.atomic():
        team = _lock_team(team)
        membership = _membership_locked(team, user)
        if membership.role == Role.OWNER:
            raise Conflict(
                "The owner cannot leave the team; transfer ownership to another member first.",
                code="owner_cannot_leave",
            )
        membership.delete()


def ownership_transfer(*, team: Team, actor: Any | None, user_id: Any) -> Membership:
    """Make the member ``user_id`` the owner; the previous owner becomes an admin.

    ``actor`` must be the owner; ``None`` is a staff transfer from the admin. The two role
    changes happen in one transaction, the old owner first, so the "one owner per team"
    constraint holds at every statement.
    """
    with transaction.atomic():
        team = _lock_team(team)
        owner = Membership.objects.select_for_update().filter(team=team, role=Role.OWNER).first()
        if actor is not None:
            acting = _membership_locked(team, actor)
            selectors.membership_require_role(acting, Role.OWNER, "transfer ownership")
        target = selectors.membership_get_by_user_id(team=team, user_id=user_id)
        if owner is not None and target.pk == owner.pk:
            return target
        if owner is not None:
            owner.role = Role.ADMIN
            owner.save(update_fields=["role", "updated_at"])
        target.role = Role.OWNER
        target.save(update_fields=["role", "updated_at"])
    logger.info("teams: ownership of %s moved to %s", team.pk, user_id)
    return target


# --- invitations -------------------------------------------------------------------------


def invitations_expire(*, team: Team | None = None) -> int:
    """Mark pending invitations past their expiry as expired, the team's or (the daily task)
    everyone's; how many.

    Seats and the one-pending-invitation-per-email rule already ignore expired ones (they
    compare ``expires_at``); this keeps the stored status true for lists, filters and the admin,
    and frees the email for a new invitation.
    """
    now = timezone.now()
    stale = Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=now)
    if team is not None:
        stale = stale.filter(team=team)
    return stale.update(status=Invitation.Status.EXPIRED, updated_at=now)


def _send_on_commit(invitation: Invitation) -> None:
    # By name (config.tasks): services never import their app's task module.
    task_send_on_commit("teams.tasks.invitation_email_send", str(invitation.pk))


def invitation_create(*, team: Team, actor: Any, email: str, role: str = Role.MEMBER) -> Invitation:
    """Invite ``email`` (owner or admin; only the owner invites admins); emailed on commit."""
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise ValidationFailed("A valid email is required.", code="invalid_email", details={"email": ["Invalid."]})
    if role not in (Role.ADMIN, Role.MEMBER):
        raise ValidationFailed(
            "An invitation is for the admin or member role.",
            code="invalid_role",
            details={"role": [f"{role!r} cannot be invited."]},
        )
    with transaction.atomic():
        team = _lock_team(team)
        acting = _membership_locked(team, actor)
        selectors.membership_require_role(acting, Role.ADMIN, "invite people")
        if role == Role.ADMIN and acting.role != Role.OWNER:
            raise RoleNotAllowed("Only the owner grants the admin role.", code="only_owner_grants_admin")
        if Membership.objects.filter(team=team, user__email__iexact=email).exists():
            raise Conflict("This person is already a member of the team.", code="already_member")
        invitations_expire(team=team)
        if Invitation.objects.filter(team=team, status=Invitation.Status.PENDING, email__iexact=email).exists():
            raise Conflict("This email already has a pending invitation; resend it instead.", code="already_invited")
        _seats_check(team, adding_member=False)
        invitation = Invitation.objects.create(team=team, email=email, role=role, invited_by=actor)
        _send_on_commit(invitation)
    return invitation


def invitation_resend(*, invitation: Invitation, actor: Any) -> Invitation:
    """Email a pending invitation again and restart its 7 days.

    An invitation that passed its expiry (still marked pending) holds no seat any more, so
    reviving it takes a free seat like a new invitation.
    """
    with transaction.atomic():
        team = _lock_team(invitation.team)
        selectors.membership_require_role(_membership_locked(team, actor), Role.ADMIN, "resend invitations")
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != Invitation.Status.PENDING:
            raise Conflict(
                f"This invitation is {invitation.status}; create a new one.",
                code="invitation_not_pending",
                details={"status": invitation.status},
            )
        now = timezone.now()
        if invitation.expires_at <= now:
            _seats_check(team, adding_member=False)
        invitation.expires_at = now + INVITATION_TTL
        invitation.save(update_fields=["expires_at", "updated_at"])
        _send_on_commit(invitation)
    return invitation


def invitation_revoke(*, invitation: Invitation, actor: Any) -> Invitation:
    """Revoke a pending invitation (its seat is free at once); revoking twice is a no-op."""
    with transaction.atomic():
        team = _lock_team(invitation.team)
        selectors.membership_require_role(_membership_locked(team, actor), Role.ADMIN, "revoke invitations")
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status == Invitation.Status.REVOKED:
            return invitation
        if invitation.status != Invitation.Status.PENDING:
            raise Conflict(
                f"This invitation is {invitation.status} and cannot be revoked.",
                code="invitation_not_pending",
                details={"status": invitation.status},
            )
        invitation.status = Invitation.Status.REVOKED
        invitation.save(update_fields=["status", "updated_at"])
    return invitation


def invitation_accept(*, token: str, user: Any) -> Membership:
    """Join the team of the invitation ``token`` as ``user``.

    Only a user whose email equals the invited one (case-insensitive) may accept (403
    ``invitation_email_mismatch``). An unknown token is 400 ``invitation_invalid``; an
    expired, revoked or already used one 400 ``invitation_expired`` / ``invitation_revoked``
    / ``invitation_used``. Accepting again as the same user returns the membership.
    """
    token = (token or "").strip()
    found = Invitation.objects.filter(token=token).only("pk", "team_id").first() if token else None
    if found is None:
        raise InvitationInvalid("This invitation link is not valid.", code="invitation_invalid")
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=found.team_id)
        invitation = Invitation.objects.select_for_update().get(pk=found.pk)
        if invitation.status == Invitation.Status.ACCEPTED:
            membership = Membership.objects.filter(team=team, user=user).first()
            if invitation.accepted_by_id == user.pk and membership is not None:
                return membership
            raise InvitationInvalid("This invitation was already used.", code="invitation_used")
        if invitation.status == Invitation.Status.REVOKED:
            raise InvitationInvalid("This invitation was revoked.", code="invitation_revoked")
        if invitation.email.lower() != (user.email or "").lower():
            raise RoleNotAllowed(
                "This invitation was sent to another email address; log in with that address to accept it.",
                code="invitation_email_mismatch",
            )
        if invitation.status == Invitation.Status.EXPIRED:
            raise InvitationInvalid("This invitation has expired.", code="invitation_expired")
        now = timezone.now()
        if invitation.expires_at > now:
            membership = Membership.objects.filter(team=team, user=user).first()
            if membership is None:
                _seats_check(team, adding_member=True)
                membership = Membership.objects.create(team=team, user=user, role=invitation.role)
            invitation.status = Invitation.Status.ACCEPTED
            invitation.accepted_by = user
            invitation.accepted_at = now
            invitation.save(update_fields=["status", "accepted_by", "accepted_at", "updated_at"])
            return membership
        invitation.status = Invitation.Status.EXPIRED
        invitation.save(update_fields=["status", "updated_at"])
    # Past its expiry: raised after the commit so that the invitation stays marked expired.
    raise InvitationInvalid("This invitation has expired.", code="invitation_expired")


def invitation_email_deliver(*, invitation_id: Any) -> bool:
    """Send the invitation email (the task's body); skipped unless the invitation is pending.

    Safe to run twice: a second run sends the same link again, which is what resend does.
    """
    invitation = Invitation.objects.select_related("team", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return False
    inviter = invitation.invited_by
    context = {
        "team_name": invitation.team.name,
        "inviter_name": (inviter.full_name or inviter.email) if inviter else "A team admin",
        "role": invitation.get_role_display().lower(),
        "email": invitation.email,
        "accept_url": selectors.invitation_accept_url(invitation),
        "expires_at": invitation.expires_at,
    }
    return email_send(template="teams/email/invitation", to=invitation.email, context=context)
