"""Input and output shapes of the teams API. Inputs check types; the services check rules."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import DeliverableEmailField, StrictCharField
from credits.api.serializers import AllowanceSerializer
from teams import selectors
from teams.models import Invitation, Membership, Team

INVITABLE_ROLES = [Membership.Role.ADMIN, Membership.Role.MEMBER]


class TeamNameInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=120, trim_whitespace=True)


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug", "is_personal", "created_at"]
        read_only_fields = fields


class SeatsSerializer(serializers.Serializer):
    plan = serializers.CharField(help_text="The plan's code (free, standard, premium).")
    seats = serializers.IntegerField(help_text="Seats the plan gives.")
    members = serializers.IntegerField()
    pending_invitations = serializers.IntegerField()
    seats_used = serializers.IntegerField(help_text="members + pending invitations")
    seats_free = serializers.IntegerField()
    over_seat_limit = serializers.BooleanField(
        help_text="More members than seats (after a downgrade): everyone stays, invitations are blocked."
    )
    message = serializers.CharField(allow_blank=True)


class TeamListItemSerializer(serializers.Serializer):
    """One of the user's teams (``selectors.team_list_for_user`` row)."""

    team = TeamSerializer()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    is_default = serializers.BooleanField(help_text="The team your requests act for without an X-Team-ID header.")
    plan = serializers.CharField(source="seats.plan_code")
    seats = serializers.IntegerField(source="seats.seats")
    seats_used = serializers.IntegerField(source="seats.used")


class MemberUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField(allow_blank=True)


class TeamDetailSerializer(serializers.Serializer):
    team = TeamSerializer()
    role = serializers.ChoiceField(choices=Membership.Role.choices, help_text="Your role in the team.")
    seats = serializers.SerializerMethodField()
    balance = serializers.IntegerField(help_text="Credits in the team's wallet.")
    owner = MemberUserSerializer(allow_null=True)

    @extend_schema_field(SeatsSerializer)
    def get_seats(self, obj) -> dict:
        return obj["seats"].as_dict()


class MemberSerializer(serializers.ModelSerializer):
    user = MemberUserSerializer()

    class Meta:
        model = Membership
        fields = ["user", "role", "joined_at"]
        read_only_fields = fields


class RoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class OwnershipTransferInputSerializer(serializers.Serializer):
    user_id = serializers.UUIDField(help_text="The member who becomes the owner; you become an admin.")


class InvitationCreateInputSerializer(serializers.Serializer):
    email = DeliverableEmailField()
    role = serializers.ChoiceField(choices=INVITABLE_ROLES, default=Membership.Role.MEMBER)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", default=None, allow_null=True)
    accept_url = serializers.SerializerMethodField(help_text="The link emailed to the invitee (pending only).")

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "expires_at",
            "invited_by",
            "accepted_at",
            "created_at",
            "accept_url",
        ]
        read_only_fields = fields

    def get_accept_url(self, obj: Invitation) -> str | None:
        if obj.status != Invitation.Status.PENDING:
            return None
        return selectors.invitation_accept_url(obj)


class InvitationAcceptInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128)


class InvitationAcceptedSerializer(serializers.Serializer):
    team = TeamSerializer()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    joined_at = serializers.DateTimeField()


class ActionUsageSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    plan_quota_units = serializers.IntegerField(help_text="Units paid by the plan's monthly quota.")
    free_uses = serializers.IntegerField(help_text="Units paid by the free monthly uses.")
    credit_units = serializers.IntegerField(help_text="Units paid with credits.")
    credits = serializers.IntegerField(help_text="Credits spent (net of refunds).")


class MemberUsageSerializer(serializers.Serializer):
    user_id = serializers.UUIDField(allow_null=True)
    email = serializers.CharField(allow_blank=True)
    role = serializers.CharField(allow_null=True, help_text="Null for someone who has left the team since.")
    is_member = serializers.BooleanField()
    actions = ActionUsageSerializer(many=True)
    total_credits = serializers.IntegerField()


class TeamUsageSerializer(serializers.Serializer):
    team = TeamSerializer()
    plan = serializers.CharField()
    cycle = serializers.CharField(allow_null=True, help_text="YYYY-MM of the cycle's start.")
    cycle_start = serializers.DateTimeField(allow_null=True)
    cycle_end = serializers.DateTimeField(allow_null=True)
    is_current = serializers.BooleanField()
    members = MemberUsageSerializer(many=True)
    quotas = AllowanceSerializer(many=True, help_text="The cycle's quotas: used and left.")
