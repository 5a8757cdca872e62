"""Teams reads: the active team of a request, memberships, seats, invitations and usage.

The membership record (``{"default": team_id, "teams": {team_id: role}}``) is what the hot
read paths (the cached report's fast path) need to resolve the active team without a
query; it is dropped whenever one of the user's memberships changes (``teams.signals``), so
a removed member is refused on their very next request.

Which wallet (and so which plan) is a team's is decided in exactly one place,
``team_account``: every credits call made for a team takes its keyword arguments from it.
Usage is computed from the credits ledger (``CreditTransaction`` rows, whose ``actor`` is
the acting member) and quota rows (``QuotaUsage``), never from a counter of our own.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from config.errors import NotFound, ValidationFailed
from credits import selectors as credits_selectors
from credits.cycles import cycle_bounds
from credits.models import PLAN_QUOTA_FIELDS, CreditTransaction, Plan, QuotaUsage, Wallet
from teams.errors import RoleNotAllowed
from teams.models import Invitation, Membership, Team

TEAM_HEADER = "X-Team-ID"
MEMBERSHIP_RECORD_SECONDS = 600
_MEMBERSHIPS_KEY = "memberships:v1:{}"


def memberships_key(user_id: Any) -> str:
    return _MEMBERSHIPS_KEY.format(user_id)


def memberships_record_load(user_id: Any) -> dict[str, Any]:
    """The user's teams and default team from the database (cached again)."""
    rows = list(Membership.objects.filter(user_id=user_id).values_list("team_id", "role", "is_default"))
    record = {
        "default": next((str(team_id) for team_id, _, default in rows if default), None)
        or (str(rows[0][0]) if rows else None),
        "teams": {str(team_id): role for team_id, role, _ in rows},
    }
    cache.set(memberships_key(user_id), record, timeout=MEMBERSHIP_RECORD_SECONDS)
    return record


def memberships_record(user_id: Any, cached: Any = None) -> dict[str, Any]:
    """The cached membership record (``cached``: the value a caller already read, None for a miss)."""
    if cached is None:
        cached = cache.get(memberships_key(user_id))
    return cached if cached is not None else memberships_record_load(user_id)


def active_team_id(record: dict[str, Any], requested: str | None) -> str | None:
    """The team a request acts for: the one it names (a member's), else the default; None: not a member."""
    if requested:
        try:
            requested = str(uuid.UUID(str(requested).strip()))
        except ValueError:
            return None
        return requested if requested in record["teams"] else None
    return record["default"]


def membership_active_get(*, user: Any, requested_team_id: str | None) -> Membership:
    """The membership a request acts through: of the team named by ``X-Team-ID``, else the default.

    A team the user does not belong to (or a malformed id) is a 404: it does not exist for them.
    """
    record = memberships_record(user.pk)
    team_id = active_team_id(record, requested_team_id)
    membership = None
    if team_id is not None:
        membership = Membership.objects.select_related("team").filter(user=user, team_id=team_id).first()
    if membership is None and requested_team_id:
        raise NotFound("No such team.", code="team_not_found", details={"team_id": str(requested_team_id)[:64]})
    if membership is None:  # a stale record: read the rows themselves
        membership = (
            Membership.objects.select_related("team").filter(user=user).order_by("-is_default", "joined_at").first()
        )
    if membership is None:
        raise NotFound("You belong to no team.", code="team_not_found")
    return membership


def team_personal_of(*, user: Any) -> Team | None:
    """The user's personal team (created with the account)."""
    return Team.objects.filter(is_personal=True, created_by=user, memberships__user=user).first()


ROLE_RANK: dict[str, int] = {
    Membership.Role.MEMBER: 1,
    Membership.Role.ADMIN: 2,
    Membership.Role.OWNER: 3,
}


# --- the team's account in credits -------------------------------------------------------


def team_owner(team: Team) -> Any | None:
    """The owner's user (the database allows at most one owner per team)."""
    owner = Membership.objects.filter(team=team, role=Membership.Role.OWNER).select_related("user").first()
    return owner.user if owner else None


def team_account(team: Team) -> dict[str, Any]:
    """The keyword arguments that name the team's account in ``credits`` calls.

    The only place that decides which wallet is a team's: ``Wallet.account_id`` is the team's id.
    """
    return {"account_id": team.pk}


def team_wallet(team: Team) -> Wallet | None:
    """The team's wallet, or None if it has none yet (the Free plan and no balance apply)."""
    return credits_selectors.wallet_get(**team_account(team))


def team_balance(team: Team) -> int:
    """The credits the team's wallet holds (0 without a wallet)."""
    wallet = team_wallet(team)
    return wallet.balance if wallet else 0


def team_plan(team: Team) -> Plan:
    """The plan whose seats and quotas apply to the team (the wallet's plan, else Free)."""
    wallet = team_wallet(team)
    return wallet.plan if wallet else credits_selectors.plan_free()


def team_has_active_paid_plan(team: Team) -> bool:
    """Whether the team is on a paid plan now (through Stripe or a staff grant).

    Deleting the team is refused while this holds, and while its Stripe subscription has not
    ended (billing's ``subscription_not_ended``, passed to ``services.team_delete`` by the API).
    """
    return team_plan(team).code != Plan.Code.FREE


# --- memberships and seats ---------------------------------------------------------------


def membership_get(*, team_id: Any, user: Any) -> Membership:
    """The user's membership of the team; a team the user is not in is a 404 (never a 403)."""
    membership = (
        Membership.objects.select_related("team", "user").filter(team_id=team_id, user=user).first()
        if user is not None and getattr(user, "is_authenticated", False)
        else None
    )
    if membership is None:
        raise NotFound("No such team.", code="team_not_found")
    return membership


def membership_require_role(membership: Membership, role: str, action: str) -> None:
    """Refuse (403 ``role_not_allowed``) unless the membership's role ranks at least ``role``."""
    if ROLE_RANK[membership.role] < ROLE_RANK[role]:
        raise RoleNotAllowed(
            f"Only a team {role} or above can {action}.",
            details={"your_role": membership.role, "required_role": role},
        )


def membership_get_by_user_id(*, team: Team, user_id: Any) -> Membership:
    membership = Membership.objects.select_related("user").filter(team=team, user_id=user_id).first()
    if membership is None:
        raise NotFound("No such member in this team.", code="member_not_found")
    return membership


def member_list(*, team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("joined_at", "id")


def invitations_pending(*, team: Team, now: datetime | None = None) -> QuerySet[Invitation]:
    """Invitations that hold a seat: pending and not past their expiry."""
    return Invitation.objects.filter(team=team, status=Invitation.Status.PENDING, expires_at__gt=now or timezone.now())


def invitation_list(*, team: Team, status: str | None = None) -> QuerySet[Invitation]:
    qs = Invitation.objects.filter(team=team).select_related("invited_by", "accepted_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")


def invitation_get(*, team: Team, invitation_id: Any) -> Invitation:
    invitation = Invitation.objects.filter(team=team, pk=invitation_id).first()
    if invitation is None:
        raise NotFound("No such invitation in this team.", code="invitation_not_found")
    return invitation


@dataclass(frozen=True)
class Seats:
    plan_code: str
    plan_name: str
    seats: int
    members: int
    pending: int

    @property
    def used(self) -> int:
        return self.members + self.pending

    @property
    def free(self) -> int:
        return max(0, self.seats - self.used)

    @property
    def over_limit(self) -> bool:
        """More members than the plan allows (after a downgrade): invitations are blocked."""
        return self.members > self.seats

    @property
    def message(self) -> str:
        if self.over_limit:
            return (
                f"The {self.plan_name} plan has {self.seats} seat(s) and the team has {self.members} members. "
                "Every member keeps access, but no one can be invited until members leave or the plan is upgraded."
            )
        if self.free == 0:
            return f"All {self.seats} seat(s) of the {self.plan_name} plan are taken (members and pending invitations)."
        return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan_code,
            "seats": self.seats,
            "members": self.members,
            "pending_invitations": self.pending,
            "seats_used": self.used,
            "seats_free": self.free,
            "over_seat_limit": self.over_limit,
            "message": self.message,
        }


def team_seats(*, team: Team, now: datetime | None = None) -> Seats:
    """Seats of the team's plan and what holds them (members + pending invitations).

    Services call this with the team row locked, so the counts cannot change under them.
    """
    plan = team_plan(team)
    return Seats(
        plan_code=plan.code,
        plan_name=plan.name,
        seats=plan.seats,
        members=Membership.objects.filter(team=team).count(),
        pending=invitations_pending(team=team, now=now).count(),
    )


def team_list_for_user(*, user: Any) -> list[dict[str, Any]]:
    """The user's teams with their role, plan and seats (oldest membership first)."""
    now = timezone.now()
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("team")
        .annotate(
            member_count=Count("team__memberships", distinct=True),
            pending_count=Count(
                "team__invitations",
                filter=Q(team__invitations__status=Invitation.Status.PENDING, team__invitations__expires_at__gt=now),
                distinct=True,
            ),
        )
        .order_by("joined_at", "id")
    )
    rows = []
    for membership in memberships:
        plan = team_plan(membership.team)
        seats = Seats(
            plan_code=plan.code,
            plan_name=plan.name,
            seats=plan.seats,
            members=membership.member_count,
            pending=membership.pending_count,
        )
        rows.append(
            {"team": membership.team, "role": membership.role, "is_default": membership.is_default, "seats": seats}
        )
    return rows


def team_detail(*, membership: Membership) -> dict[str, Any]:
    """What the detail endpoint shows: the team, the caller's role, seats and the balance."""
    team = membership.team
    wallet = team_wallet(team)
    return {
        "team": team,
        "role": membership.role,
        "seats": team_seats(team=team),
        "balance": wallet.balance if wallet else 0,
        "owner": team_owner(team),
    }


# --- usage -------------------------------------------------------------------------------


def parse_cycle(value: str | None) -> tuple[int, int] | None:
    """``YYYY-MM`` -> (year, month); None or "" means the current cycle."""
    if not value:
        return None
    try:
        year_s, month_s = value.split("-")
        year, month = int(year_s), int(month_s)
    except ValueError:
        year = month = 0
    if len(value) != 7 or not (1 <= month <= 12) or year < 2000:
        raise ValidationFailed(
            "cycle must be a month written YYYY-MM.", code="invalid_cycle", details={"cycle": [value]}
        )
    return year, month


def _cycle_for(wallet: Wallet, month: tuple[int, int] | None, now: datetime) -> tuple[datetime, datetime]:
    """The wallet's billing cycle that starts in ``month`` (or the one containing ``now``)."""
    anchor = wallet.cycle_anchor
    if month is None:
        return cycle_bounds(anchor=anchor, now=now)
    k = (month[0] - anchor.year) * 12 + (month[1] - anchor.month)
    # Before the first cycle, or a month after this one (whose end, for 9999-12, no date can hold).
    start = anchor + relativedelta(months=k) if 0 <= k and month <= (now.year, now.month) else None
    if start is None or start > now:
        raise ValidationFailed(
            "The team has no billing cycle starting in that month.",
            code="cycle_out_of_range",
            details={"cycle": [f"{month[0]:04d}-{month[1]:02d}"], "first_cycle": f"{anchor:%Y-%m}"},
        )
    return start, anchor + relativedelta(months=k + 1)


def _quota_rows(wallet: Wallet | None, plan: Plan, cycle_start: datetime | None) -> list[dict[str, Any]]:
    """The cycle's allowances per action (a team without a wallet has used nothing)."""
    usages = {}
    if wallet is not None:
        usages = {u.action_type: u for u in QuotaUsage.objects.filter(wallet=wallet, cycle_start=cycle_start)}
    rows = []
    for rule in credits_selectors.pricing_rule_list():
        if rule.free_uses_per_month == 0 and rule.action_type not in PLAN_QUOTA_FIELDS:
            continue
        allowance = credits_selectors.allowance_make(
            rule=rule, plan=plan, wallet=wallet, usage=usages.get(rule.action_type)
        )
        rows.append(
            {
                "action_type": allowance.action_type,
                "free_allowance": allowance.free_allowance,
                "free_used": allowance.free_used,
                "free_left": allowance.free_left,
                "plan_quota": allowance.plan_quota,
                "plan_used": allowance.plan_used,
                "plan_left": allowance.plan_left,
            }
        )
    return rows


def team_usage(*, team: Team, cycle: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Per member and action, what the team's billing cycle used; and the quotas left.

    A spend row's ``buckets`` say which bucket paid each unit (free use, plan quota,
    credits) and its amount the credits taken; a refund row gives back the buckets it
    names and its amount, and belongs to the cycle of the spend it refunds (the same
    rules ``QuotaUsage`` follows, so the per-member sums add up to the quota rows).
    """
    now = now or timezone.now()
    month = parse_cycle(cycle)
    wallet = team_wallet(team)
    plan = wallet.plan if wallet else credits_selectors.plan_free()
    members = {m.user_id: m for m in member_list(team=team)}
    if wallet is None:
        return {
            "team": team,
            "plan": plan.code,
            "cycle": None,
            "cycle_start": None,
            "cycle_end": None,
            "is_current": True,
            "members": [_member_usage_row(m.user, m.role, {}) for m in members.values()],
            "quotas": _quota_rows(None, plan, None),
        }
    start, end = _cycle_for(wallet, month, now)
    per_user: dict[Any, dict[str, dict[str, int]]] = defaultdict(dict)
    ledger = CreditTransaction.objects.filter(
        wallet=wallet,
        kind__in=[CreditTransaction.Kind.SPEND, CreditTransaction.Kind.REFUND],
        cycle_start=start,
    ).values_list("actor_id", "kind", "action_type", "amount", "buckets")
    # ``actor`` is the member who acted (null for rows of no one: staff or system).
    for member_id, kind, action_type, amount, buckets in ledger:
        sign = 1 if kind == CreditTransaction.Kind.SPEND else -1
        row = per_user[member_id].setdefault(
            action_type, {"plan_quota_units": 0, "free_uses": 0, "credit_units": 0, "credits": 0}
        )
        buckets = list(buckets or [])
        row["plan_quota_units"] += sign * buckets.count(credits_selectors.BUCKET_PLAN)
        row["free_uses"] += sign * buckets.count(credits_selectors.BUCKET_FREE)
        row["credit_units"] += sign * buckets.count(credits_selectors.BUCKET_CREDITS)
        row["credits"] += -amount
    member_rows = [_member_usage_row(m.user, m.role, per_user.pop(uid, {})) for uid, m in members.items()]
    # Rows of people who have left the team since (or of no one) stay in the totals.
    if per_user:
        users = get_user_model().objects.in_bulk([uid for uid in per_user if uid is not None])
        for uid, actions in per_user.items():
            member_rows.append(_member_usage_row(users.get(uid), None, actions))
    return {
        "team": team,
        "plan": plan.code,
        "cycle": f"{start:%Y-%m}",
        "cycle_start": start,
        "cycle_end": end,
        "is_current": start <= now < end,
        "members": member_rows,
        "quotas": _quota_rows(wallet, plan, start),
    }


def _member_usage_row(user: Any | None, role: str | None, actions: dict[str, dict[str, int]]) -> dict[str, Any]:
    action_rows = [{"action_type": action, **numbers} for action, numbers in sorted(actions.items())]
    return {
        "user_id": user.pk if user else None,
        "email": user.email if user else "",
        "role": role,
        "is_member": role is not None,
        "actions": action_rows,
        "total_credits": sum(r["credits"] for r in action_rows),
    }


def invitation_accept_url(invitation: Invitation) -> str:
    """The frontend page that accepts the invitation (it posts the token to the API)."""
    return f"{settings.FRONTEND_URL.rstrip('/')}/teams/invitations/accept?{urlencode({'token': invitation.token})}"
