"""Teams: the account that owns the wallet, the plan, the Stripe customer, unlocks and exports.

A ``Team`` is acted for by its members (``Membership``); people join through an
``Invitation``. Seats (members + pending invitations) are bounded by the plan's ``seats``;
the checks live in ``teams.services`` with the team row locked.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from config.models import TimeStampedModel, UUIDModel

INVITATION_TTL = timedelta(days=7)


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + INVITATION_TTL


class Team(UUIDModel):
    """The account. ``id`` is the account id that ``credits`` knows (``Wallet.account_id``)."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="teams_created"
    )
    # The email Stripe uses; empty means "the owner's email".
    billing_email_override = models.EmailField(blank=True, default="")
    is_personal = models.BooleanField(default=False)
    flagged_for_staff = models.BooleanField(default=False, help_text="Set by a payment dispute; staff review it.")
    flagged_reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def billing_email(self) -> str:
        if self.billing_email_override:
            return self.billing_email_override
        owner = self.memberships.filter(role=Membership.Role.OWNER).select_related("user").first()
        return owner.user.email if owner else ""

    @property
    def email(self) -> str:
        """The Stripe customer's email (dj-stripe's subscriber model must have one)."""
        return self.billing_email


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    # The team a request acts for when it names none (``X-Team-ID``): one per user.
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="teams_membership_unique_team_user"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="teams_membership_one_default_per_user"
            ),
            # Exactly one owner: at most one here; at least one is kept by the services
            # (ownership moves by swapping roles inside one transaction).
            models.UniqueConstraint(
                fields=["team"], condition=Q(role="owner"), name="teams_membership_one_owner_per_team"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "admin", "member"]), name="teams_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id} ({self.role})"


class Invitation(TimeStampedModel):
    """An invitation to join a team.

    Status transitions: pending -> accepted | revoked | expired. Only pending ones count
    against seats; at most one pending invitation per team and email.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()  # stored lower-case (the services normalise it)
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations_sent"
    )
    expires_at = models.DateTimeField(default=_invitation_expiry)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_accepted",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "team", Lower("email"), condition=Q(status="pending"), name="teams_invitation_one_pending_per_email"
            ),
            models.CheckConstraint(condition=~Q(role="owner"), name="teams_invitation_not_owner"),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.team_id} ({self.status})"
